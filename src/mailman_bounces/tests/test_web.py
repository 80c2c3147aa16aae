"""The web app's pages, rendered by the real Postorius site in this
process (Django's test client) on Mailman's real REST server.  The same
pages in a real browser: test_web_browser.py."""

from __future__ import annotations

import re
from html import unescape

import pytest

from mailman_bounces.tests import web_site
from mailman_bounces.tests.web_site import (
    ADMIN,
    ANNE,
    BART,
    CRIS,
    HOSTILE,
    LIST_ID,
    OTHER,
    OWNER,
    account,
    verp_bounce,
)

# The fixtures of the site and its world.
site = web_site.site
world = web_site.world


def client_for(email: str | None):
    from django.test import Client
    client = Client()
    if email is not None:
        client.force_login(account(email))
    return client


def text_of(response) -> str:
    return response.content.decode()


def test_menu_integration_survives_postorius(world):
    """The Bounces tab is in Postorius' list menu, after all of
    Postorius' own tabs, which are all still there.  Fails when a
    Postorius upgrade changes the menu so that the tab has no place (or
    drops tabs)."""
    from django.template import engines

    from mailman_bounces.web.templatetags.bounces_web import (
        postorius_menu_source,
    )
    response = client_for(OWNER).get(f'/postorius/lists/{LIST_ID}/')
    assert response.status_code == 200
    page = text_of(response)
    menu = page[page.index('nav nav-pills'):]
    menu = menu[:menu.index('</ul>\n\n<h2>') if '</ul>\n\n<h2>' in menu
                else menu.index('<h2>')]
    tab = f'href="/postorius/lists/{LIST_ID}/bounces/"'
    assert tab in menu
    # Postorius' own tabs: every link of its template is still drawn,
    # and ours comes after them.
    source = postorius_menu_source('list_nav.html')
    names = re.findall(r"{% url '([a-z_]+)'", source)
    assert {'list_summary', 'list_settings', 'list_bans'} <= set(names)
    links = re.findall(r'href="([^"#]+)"', menu)
    assert links[-1] == f'/postorius/lists/{LIST_ID}/bounces/'
    assert f'/postorius/lists/{LIST_ID}/settings/' in links
    assert f'/postorius/lists/{LIST_ID}/bans/' in links
    # The template Postorius renders is ours, wrapping Postorius' own.
    template = engines['django'].get_template('postorius/menu/list_nav.html')
    assert 'mailman_bounces' in template.origin.name
    # And the user menu has its tab too.
    account_page = text_of(client_for(ANNE).get(
        '/postorius/accounts/subscriptions/'))
    assert 'href="/postorius/accounts/bounces/"' in account_page


def test_members_never_see_the_tab(world):
    page = text_of(client_for(ANNE).get(f'/postorius/lists/{LIST_ID}/'))
    assert '/bounces/' not in page


def test_owner_sees_bouncing_members(world):
    response = client_for(OWNER).get(f'/postorius/lists/{LIST_ID}/bounces/')
    assert response.status_code == 200
    page = text_of(response)
    table = page[page.index('id="bounces-members"'):]
    table = table[:table.index('</table>')]
    assert ANNE in table and BART in table and CRIS not in table
    assert 'disabled by bounces, warned 1 of 3' in table
    assert 'the mailbox does not exist at the destination' in table
    assert 'A member is disabled at a score of 2' in page
    # Postorius' own page furniture.
    assert 'Postorius' in page and 'nav nav-pills' in page


@pytest.mark.parametrize('path', ['', 'events/', 'settings/', 'plot.svg'])
def test_anonymous_and_members_get_no_list_data(world, path):
    url = f'/postorius/lists/{LIST_ID}/bounces/{path}'
    for email in (None, ANNE):
        response = client_for(email).get(url)
        assert response.status_code in (302, 403), (email, path)
        assert BART not in text_of(response)


def test_owner_of_one_list_sees_nothing_of_another(world):
    other = OTHER.replace('@', '.')
    owner = client_for(OWNER)
    assert owner.get(f'/postorius/lists/{other}/bounces/').status_code == 403
    # An event of the other list, asked for under the owner's list.
    from mailman_bounces.tests.test_rest_api import get
    foreign = get(f'/events?list_id={other}')['entries'][0]['id']
    response = owner.get(
        f'/postorius/lists/{LIST_ID}/bounces/events/{foreign}/')
    assert response.status_code == 404


def test_events_filtered_and_the_stored_message_escaped(world):
    owner = client_for(OWNER)
    page = text_of(owner.get(f'/postorius/lists/{LIST_ID}/bounces/events/'))
    assert page.count('class="bounces-event"') == 3
    page = text_of(owner.get(f'/postorius/lists/{LIST_ID}/bounces/events/',
                             {'severity': 'soft'}))
    assert page.count('class="bounces-event"') == 1
    assert BART in page and ANNE not in page.split('bounces-events')[1]
    page = text_of(owner.get(f'/postorius/lists/{LIST_ID}/bounces/events/',
                             {'until': 'not a date'}))
    assert 'id="bounces-error"' in page and 'until' in page
    # The first event: Anne's hostile diagnostic.
    from mailman_bounces.tests.test_rest_api import get
    first = get(f'/events?list_id={LIST_ID}&address={ANNE}')['entries'][-1]
    page = text_of(owner.get(
        f"/postorius/lists/{LIST_ID}/bounces/events/{first['id']}/"))
    assert '<script>alert' not in page
    assert HOSTILE in unescape(page)
    assert 'Undelivered Mail Returned to Sender' in page
    assert 'id="bounces-message-text"' in page


def test_settings_form_refuses_and_changes_nothing(world):
    from mailman_bounces.tests.helpers import commit
    owner = client_for(OWNER)
    url = f'/postorius/lists/{LIST_ID}/bounces/settings/'
    form = text_of(owner.get(url))
    assert 'The score at which a member is disabled' in form
    values = dict(re.findall(r'name="([a-z_0-9]+)" value="([^"]*)"', form))
    assert values['bounce_score_threshold'] == '2'
    # A bad value next to a good one: the API's message, nothing saved.
    response = owner.post(url, {**values, 'bounce_score_threshold': 'lots',
                                'bounce_you_are_disabled_warnings': '5'})
    assert response.status_code == 400
    page = unescape(text_of(response))
    assert ("bounce_score_threshold: invalid value 'lots'" in page)
    commit()
    from mailman.interfaces.listmanager import IListManager
    from zope.component import getUtility
    mlist = getUtility(IListManager).get_by_list_id(LIST_ID)
    assert mlist.bounce_you_are_disabled_warnings == 3
    response = owner.post(url, {**values, 'bounce_score_threshold': '7'})
    assert response.status_code == 302
    commit()
    assert mlist.bounce_score_threshold == 7
    # Moderators and members may not change settings.
    assert client_for(ANNE).post(url, values).status_code in (302, 403)


def test_owner_reenables_a_member(world):
    from mailman.interfaces.member import DeliveryStatus

    from mailman_bounces.tests.helpers import commit, member
    owner = client_for(OWNER)
    response = owner.post(
        f'/postorius/lists/{LIST_ID}/bounces/members/{ANNE}/reset/')
    assert response.status_code == 302
    commit()
    assert member(world.mlist, ANNE).delivery_status == DeliveryStatus.enabled
    page = text_of(owner.get(f'/postorius/lists/{LIST_ID}/bounces/',
                             follow=True))
    assert 'is enabled and its bounce score cleared' in page
    # A GET changes nothing.
    assert owner.get(f'/postorius/lists/{LIST_ID}/bounces/members/'
                     f'{BART}/reset/').status_code == 405


def test_reenable_page_get_shows_post_redeems_once(world):
    from mailman.interfaces.member import DeliveryStatus

    from mailman_bounces.tests.helpers import commit, member
    anonymous = client_for(None)
    url = f'/postorius/bounces/reenable/{world.token}/'
    page = text_of(anonymous.get(url))
    assert 'ant@example.com' in page and ANNE in page
    assert 'the mailbox does not exist at the destination' in page
    # Looking does nothing.
    anonymous.get(url)
    commit()
    assert member(world.mlist, ANNE).delivery_status == \
        DeliveryStatus.by_bounces
    response = anonymous.post(url)
    assert response.status_code == 200
    assert 'id="bounces-reenabled"' in text_of(response)
    commit()
    assert member(world.mlist, ANNE).delivery_status == DeliveryStatus.enabled
    for method in (anonymous.get, anonymous.post):
        again = method(url)
        assert again.status_code == 404
        assert 'This link is no longer valid' in text_of(again)
    assert anonymous.get('/postorius/bounces/reenable/nonsense/')\
        .status_code == 404


def test_site_admin_page(world):
    response = client_for(ADMIN).get('/postorius/bounces/')
    assert response.status_code == 200
    page = text_of(response)
    rows = page[page.index('id="bounces-lists"'):].split('</table>')[0]
    assert rows.index('ant@example.com') < rows.index('bee@example.com')
    assert client_for(OWNER).get('/postorius/bounces/').status_code == 403
    plot = client_for(ADMIN).get('/postorius/bounces/plot.svg')
    assert plot['Content-Type'] == 'image/svg+xml'
    assert b'<svg' in plot.content


def test_own_standing_on_the_account_page(world):
    page = text_of(client_for(ANNE).get('/postorius/accounts/bounces/'))
    table = page[page.index('id="bounces-account"'):].split('</table>')[0]
    assert LIST_ID in table and OTHER.replace('@', '.') in table
    assert 'disabled by bounces' in table
    assert BART not in table


def test_list_plot_is_svg(world):
    plot = client_for(OWNER).get(f'/postorius/lists/{LIST_ID}/bounces/'
                                 'plot.svg')
    assert plot.status_code == 200
    assert plot['Content-Type'] == 'image/svg+xml'
    assert b'hard userunknown' in plot.content
    assert b'soft mailboxfull' in plot.content


def _table(page: str, table_id: str) -> str:
    table = page[page.index(f'id="{table_id}"'):]
    return table[:table.index('</table>')]


def _row_of(table: str, needle: str) -> str:
    return next(row for row in table.split('<tr') if needle in row)


def _cell(row: str, css: str) -> str:
    found = re.search(rf'class="{css}"[^>]*>([^<]*)<', row)
    assert found, (css, row)
    return found.group(1).strip()


def test_site_admin_page_shows_forged_and_unverified_volume(world):
    """Site-wide events per evidence over the last 7 and 30 days (of the
    REST server's clock, which the test's fast-forwarding does not move).
    The world's four events (registered in process: verified) are
    recent; a forged bounce twenty days ago; now a verified, a forged and
    two unverified ones (one on the other list)."""
    from mailman.interfaces.listmanager import IListManager
    from zope.component import getUtility

    from mailman_bounces.tests.helpers import fast_forward
    other = getUtility(IListManager).get(OTHER)
    fast_forward(days=-20)
    verp_bounce(world.mlist, CRIS, 'forged')
    fast_forward(days=20)
    verp_bounce(world.mlist, BART, 'verified')
    verp_bounce(world.mlist, CRIS, 'forged')
    verp_bounce(world.mlist, CRIS, 'unverified')
    verp_bounce(other, ANNE, 'unverified')
    page = text_of(client_for(ADMIN).get('/postorius/bounces/'))
    table = _table(page, 'bounces-evidence')
    week, month = (_row_of(table, f'data-days="{days}"') for days in (7, 30))
    assert 'last 7 days' in week and 'last 30 days' in month
    assert [_cell(week, name) for name in (
        'bounces-verified', 'bounces-unverified', 'bounces-forged')] == \
        ['5', '2', '1']
    assert [_cell(month, name) for name in (
        'bounces-verified', 'bounces-unverified', 'bounces-forged')] == \
        ['5', '2', '2']
    # The bounce mailboxes: the test configuration's one, disabled
    # (conftest.py).
    mailbox = _row_of(_table(page, 'bounces-mailboxes'), 'example')
    assert '127.0.0.1:9' in mailbox
    assert _cell(mailbox, 'bounces-mailbox-enabled') == 'no'


def test_site_admin_page_shows_callback_endpoints_and_outbox(world):
    """The lists' callback endpoints with their outbox, and the outbox's
    pending and dead callbacks in all."""
    from mailman.config import config
    from sqlalchemy import func, select, update

    from mailman_bounces.app.callbacks import add_endpoint
    from mailman_bounces.model.hooks import Callback
    from mailman_bounces.tests.helpers import bounce, commit
    from mailman_bounces.tests.test_callbacks import SECRET
    admin = client_for(ADMIN)
    page = text_of(admin.get('/postorius/bounces/'))
    assert 'id="bounces-no-endpoints"' in page
    assert 'Outbox: 0 callbacks pending, 0 dead.' in page
    endpoint = add_endpoint(LIST_ID, 'http://127.0.0.1:9/hook', SECRET)
    url_id = endpoint.id
    commit()
    bounce(world.mlist, CRIS)
    bounce(world.mlist, BART)
    store = config.db.store
    queued = store.execute(select(func.count()).select_from(Callback)
                           ).scalar()
    assert queued >= 2, 'the bounces queued no callbacks'
    # One given up on.
    first = store.execute(select(func.min(Callback.id))).scalar()
    store.execute(update(Callback).where(Callback.id == first)
                  .values(state='dead'))
    commit()
    page = text_of(admin.get('/postorius/bounces/'))
    assert (f'Outbox: {queued - 1} callbacks pending, 1 dead.'
            in unescape(page))
    row = _row_of(_table(page, 'bounces-endpoints'), f'list:{url_id}')
    assert 'http://127.0.0.1:9/hook' in row and LIST_ID in row
    assert _cell(row, 'bounces-pending') == str(queued - 1)
    assert _cell(row, 'bounces-dead') == '1'


def test_owner_sees_each_bouncing_members_evidence(world):
    """Bart's newest bounce came to his signed return path, Anne's to
    hers with the signature broken; their older ones (registered in
    process) count as verified."""
    verp_bounce(world.mlist, BART, 'verified')
    verp_bounce(world.mlist, ANNE, 'forged')
    page = text_of(client_for(OWNER).get(
        f'/postorius/lists/{LIST_ID}/bounces/'))
    table = _table(page, 'bounces-members')
    assert '<th>Evidence</th>' in table
    bart, anne = _row_of(table, BART), _row_of(table, ANNE)
    assert _cell(bart, 'bounces-evidence-last') == 'verified'
    assert '2 verified, 0 unverified, 0 forged' in bart
    assert _cell(anne, 'bounces-evidence-last') == 'forged'
    assert '2 verified, 0 unverified, 1 forged' in anne


def test_events_filtered_by_evidence(world):
    verp_bounce(world.mlist, BART, 'verified')
    verp_bounce(world.mlist, ANNE, 'forged')
    verp_bounce(world.mlist, CRIS, 'forged')
    verp_bounce(world.mlist, CRIS, 'unverified')
    owner = client_for(OWNER)
    url = f'/postorius/lists/{LIST_ID}/bounces/events/'
    page = text_of(owner.get(url))
    # The world's three events (registered in process: verified) and
    # these four.
    assert page.count('class="bounces-event"') == 7
    assert 'id="f-evidence"' in page
    page = text_of(owner.get(url, {'evidence': 'forged'}))
    rows = page.split('id="bounces-events"')[1]
    assert rows.count('class="bounces-event"') == 2
    assert ANNE in rows and CRIS in rows and BART not in rows
    assert '<option value="forged" selected>' in page
    page = text_of(owner.get(url, {'evidence': 'verified'}))
    rows = page.split('id="bounces-events"')[1]
    assert rows.count('class="bounces-event"') == 4 and CRIS not in rows
    page = text_of(owner.get(url, {'evidence': 'unverified'}))
    rows = page.split('id="bounces-events"')[1]
    assert rows.count('class="bounces-event"') == 1 and CRIS in rows
    assert _cell(rows, 'bounces-evidence') == 'unverified'
    page = text_of(owner.get(url, {'evidence': 'verified',
                                   'address': CRIS}))
    assert 'id="bounces-no-events"' in page
    # A value the API refuses: its message, no events.
    page = unescape(text_of(owner.get(url, {'evidence': 'trusted'})))
    assert 'id="bounces-error"' in page and 'evidence' in page
