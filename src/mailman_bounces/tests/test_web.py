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
    MODERATOR,
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


def form_values(page: str) -> dict[str, str]:
    """What the settings form would send as it is: its text fields, the
    options selected and the radio buttons checked."""
    form = page[page.index('id="bounces-settings"'):]
    form = form[:form.index('</form>')]
    values = {}
    for tag in re.findall(r'<input [^>]*>', form):
        name = re.search(r'name="([a-z_0-9]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if not name or name.group(1) == 'csrfmiddlewaretoken':
            continue
        if 'type="radio"' in tag and 'checked' not in tag:
            continue
        values[name.group(1)] = unescape(value.group(1) if value else '')
    selects = r'<select name="([a-z_0-9]+)"[^>]*>(.*?)</select>'
    for name, options in re.findall(selects, form, re.DOTALL):
        values[name] = unescape(re.search(
            r'<option value="([^"]*)"[^>]*selected', options).group(1))
    return values


def test_settings_form_refuses_and_changes_nothing(world):
    from mailman_bounces.tests.helpers import commit
    owner = client_for(OWNER)
    url = f'/postorius/lists/{LIST_ID}/bounces/settings/'
    form = text_of(owner.get(url))
    assert 'The score at which a member is disabled' in form
    values = form_values(form)
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


def _events_in(page: str) -> list[str]:
    """The members of the events a page of the history shows, in order."""
    rows = page.split('id="bounces-events"')[1].split('</table>')[0]
    return re.findall(r'class="bounces-email">([^<]*)<', rows)


def test_events_paged(world):
    """Three events on the list (Anne's two, Bart's one), two to a page
    (the site's MAILMAN_BOUNCES_PAGE_SIZE): two pages, each event once,
    and the pager keeps the filters."""
    from django.test import override_settings
    owner = client_for(OWNER)
    url = f'/postorius/lists/{LIST_ID}/bounces/events/'
    with override_settings(MAILMAN_BOUNCES_PAGE_SIZE=2):
        first = text_of(owner.get(url))
        assert len(_events_in(first)) == 2
        assert 'Page 1 of 2' in first and '3 events' in first
        assert 'id="bounces-next"' in first
        second = text_of(owner.get(url, {'page': '2'}))
        assert 'Page 2 of 2' in second and 'id="bounces-next"' not in second
        assert sorted(_events_in(first) + _events_in(second)) == \
            sorted([ANNE, ANNE, BART])
        # Anne's two events fit on one page: no pager.
        filtered = text_of(owner.get(url, {'address': ANNE}))
        assert _events_in(filtered) == [ANNE, ANNE]
        assert 'Page 1 of' not in filtered
        # Anne's two events, one to a page: the next link keeps the
        # filter.
        with override_settings(MAILMAN_BOUNCES_PAGE_SIZE=1):
            page = text_of(owner.get(url, {'address': ANNE}))
            assert 'Page 1 of 2' in page
            assert f'href="?address={ANNE.replace("@", "%40")}&amp;page=2"'\
                in page
    # And the bouncing members, one to a page.
    with override_settings(MAILMAN_BOUNCES_PAGE_SIZE=1):
        members = f'/postorius/lists/{LIST_ID}/bounces/'
        shown = []
        for number in ('1', '2'):
            page = text_of(owner.get(members, {'page': number}))
            assert f'Page {number} of 2' in page
            table = _table(page, 'bounces-members')
            shown += [email for email in (ANNE, BART) if email in table]
        assert sorted(shown) == [ANNE, BART]


def test_events_filtered_by_member_reason_and_date(world):
    """Day one: Anne's hard bounce (the mailbox does not exist) and
    Bart's full mailbox; day two: Anne's second hard bounce."""
    from datetime import timedelta

    from mailman.utilities.datetime import now
    day_two = now().date()
    day_one = day_two - timedelta(days=1)
    owner = client_for(OWNER)
    url = f'/postorius/lists/{LIST_ID}/bounces/events/'
    page = text_of(owner.get(url, {'address': BART}))
    assert _events_in(page) == [BART]
    assert f'value="{BART}"' in page
    page = text_of(owner.get(url, {'address': ANNE}))
    assert _events_in(page) == [ANNE, ANNE]
    page = text_of(owner.get(url, {'reason': 'mailboxfull'}))
    assert _events_in(page) == [BART]
    assert '<option value="mailboxfull" selected>' in page
    page = text_of(owner.get(url, {'reason': 'userunknown'}))
    assert _events_in(page) == [ANNE, ANNE]
    page = text_of(owner.get(url, {'until': day_one.isoformat()}))
    assert sorted(_events_in(page)) == [ANNE, BART]
    page = text_of(owner.get(url, {'since': day_two.isoformat()}))
    assert _events_in(page) == [ANNE]
    page = text_of(owner.get(url, {'since': day_one.isoformat(),
                                   'until': day_one.isoformat(),
                                   'reason': 'userunknown'}))
    assert _events_in(page) == [ANNE]
    page = text_of(owner.get(url, {'since': (day_two + timedelta(days=1))
                                   .isoformat()}))
    assert 'id="bounces-no-events"' in page


def _freeze(list_id, key, started, expires, lifted=None):
    from mailman.config import config

    from mailman_bounces.model.freeze import OutageFreeze
    from mailman_bounces.tests.helpers import commit
    config.db.store.add(OutageFreeze(
        list_id=list_id, key_type='domain', key=key, started=started,
        expires=expires, lifted=lifted, bouncing=3, members=10))
    commit()


def test_freezes_panel_shows_freezes_in_force_first(world):
    """A freeze of the list in force (for a year), a site-wide one lifted,
    and one of the other list, which is not this list's to show."""
    from datetime import timedelta

    from mailman.utilities.datetime import now
    today = now()
    owner = client_for(OWNER)
    page = text_of(owner.get(f'/postorius/lists/{LIST_ID}/bounces/'))
    assert 'No outage freezes.' in page
    _freeze(None, 'lifted.example.net', today - timedelta(days=3),
            today + timedelta(days=365), lifted=today - timedelta(days=2))
    _freeze(LIST_ID, 'down.example.net', today - timedelta(days=2),
            today + timedelta(days=365))
    _freeze(OTHER.replace('@', '.'), 'elsewhere.example.net',
            today - timedelta(days=2), today + timedelta(days=365))
    page = text_of(owner.get(f'/postorius/lists/{LIST_ID}/bounces/'))
    table = _table(page, 'bounces-freezes')
    rows = table.split('<tr')[2:]
    assert len(rows) == 2
    assert 'down.example.net' in rows[0] and 'in force' in rows[0]
    assert 'lifted.example.net' in rows[1] and 'site-wide' in rows[1]
    assert 'lifted' in rows[1].split('</td>')[-2]
    assert 'elsewhere.example.net' not in page
    # The site admin sees all three, the two in force first.
    site = _table(text_of(client_for(ADMIN).get('/postorius/bounces/')),
                  'bounces-freezes')
    rows = site.split('<tr')[2:]
    assert len(rows) == 3
    assert all('in force' in row for row in rows[:2])
    assert {'down.example.net', 'elsewhere.example.net'} == {
        re.search(r'<td>(\S+) <small>', row).group(1) for row in rows[:2]}
    assert 'lifted.example.net' in rows[2]


def test_probe_pending_status(world):
    """With probes before disabling, Cris reaching the threshold (two hard
    bounces on two days) is sent a probe and stays enabled: "probe
    pending"."""
    from mailman.interfaces.member import DeliveryStatus

    from mailman_bounces.app.settings import change_settings
    from mailman_bounces.tests.helpers import (
        bounce,
        commit,
        fast_forward,
        member,
        run_pass,
    )
    change_settings(world.mlist, {'probe_before_disable': True})
    commit()
    bounce(world.mlist, CRIS)
    run_pass()
    fast_forward(days=1)
    bounce(world.mlist, CRIS)
    run_pass()
    commit()
    assert member(world.mlist, CRIS).delivery_status == \
        DeliveryStatus.enabled
    page = text_of(client_for(OWNER).get(
        f'/postorius/lists/{LIST_ID}/bounces/'))
    cris = _row_of(_table(page, 'bounces-members'), CRIS)
    assert _cell(cris, 'bounces-status') == 'probe pending'


def test_moderator_sees_the_lists_bounce_pages(world):
    """A moderator of the list sees its Bounces tab and pages, and may
    re-enable members, but not its settings (owners only, as Postorius'
    own settings pages); a plain member sees none of it."""
    from mailman_bounces.tests.test_rest_api import get
    moderator = client_for(MODERATOR)
    base = f'/postorius/lists/{LIST_ID}/bounces/'
    summary = text_of(moderator.get(f'/postorius/lists/{LIST_ID}/'))
    assert f'href="{base}"' in summary
    page = text_of(moderator.get(base))
    assert BART in _table(page, 'bounces-members')
    # The settings are the owners': no tab, no page.
    assert 'id="bounces-settings-tab"' not in page
    assert moderator.get(f'{base}settings/').status_code == 403
    page = text_of(moderator.get(f'{base}events/'))
    assert sorted(_events_in(page)) == [ANNE, ANNE, BART]
    first = get(f'/events?list_id={LIST_ID}&address={BART}')['entries'][0]
    assert moderator.get(f"{base}events/{first['id']}/").status_code == 200
    assert moderator.get(f'{base}plot.svg').status_code == 200
    assert moderator.post(f'{base}members/{BART}/reset/').status_code == 302
    # Not a moderator of the other list.
    other = OTHER.replace('@', '.')
    assert moderator.get(f'/postorius/lists/{other}/bounces/')\
        .status_code == 403
    # A plain member: no tab, no page, no reset.
    member = client_for(ANNE)
    assert f'href="{base}"' not in text_of(
        member.get(f'/postorius/lists/{LIST_ID}/'))
    for path in ('', 'events/', f"events/{first['id']}/", 'plot.svg'):
        response = member.get(f'{base}{path}')
        assert response.status_code in (302, 403), path
        assert BART not in text_of(response)
    assert member.post(f'{base}members/{BART}/reset/').status_code in \
        (302, 403)
    assert '/reset/' not in member.post(
        f'{base}members/{BART}/reset/').get('Location', '')


def test_site_admins_have_a_link_to_the_site_page(world):
    """Postorius' navigation bar, on its pages and this app's, links the
    site page for a site admin, among the site admin's items; not for
    an owner, a member or a visitor."""
    link = 'href="/postorius/bounces/"'
    for url in ('/postorius/lists/', f'/postorius/lists/{LIST_ID}/',
                f'/postorius/lists/{LIST_ID}/bounces/'):
        page = text_of(client_for(ADMIN).get(url, follow=True))
        bar = page[page.index('id="header-nav"'):]
        bar = bar[:bar.index('</ul>')]
        assert link in bar, url
        # Among Postorius' own site admin items, after them.
        assert bar.index('href="/postorius/users"') < bar.index(link)
    for email in (OWNER, ANNE, None):
        page = text_of(client_for(email).get('/postorius/lists/',
                                             follow=True))
        assert 'id="header-nav"' in page and link not in page, email


def test_site_link_fails_loudly_without_its_place():
    """Postorius' base template as it is gets the link; one without the
    site admin's items is refused, not served without the link."""
    from django.template import TemplateSyntaxError

    from mailman_bounces.web.loaders import postorius_base, with_site_link
    source = postorius_base().read_text(encoding='utf-8')
    linked = with_site_link(source)
    assert linked.count('bounces/nav/site_link.html') == 1
    assert linked.replace(
        '{% include "bounces/nav/site_link.html" %}\n', '') == source
    with pytest.raises(TemplateSyntaxError):
        with_site_link(source.replace('user.is_superuser', 'user.is_staff'))


def test_settings_form_offers_choices_of_the_apis_schema(world):
    """Settings with a list of values (the REST API documents them:
    complaint_action none, disable or unsubscribe; score_mode mailman or
    sympa) are drop-downs of exactly those, the current one selected;
    yes/no settings are radio buttons; the rest stay text.  A choice
    saves; a value not on the list is the API's to refuse, with its
    message."""
    from mailman_bounces.tests.helpers import commit
    owner = client_for(OWNER)
    url = f'/postorius/lists/{LIST_ID}/bounces/settings/'
    page = text_of(owner.get(url))

    def options(name):
        select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>',
                           page, re.DOTALL)
        assert select, name
        return re.findall(r'<option value="([^"]*)"', select.group(1))
    assert options('complaint_action') == ['none', 'disable', 'unsubscribe']
    assert options('score_mode') == ['mailman', 'sympa']
    assert options('forward_unrecognized_bounces_to') == [
        'discard', 'administrators', 'site_owner']
    values = form_values(page)
    assert values['score_mode'] == 'mailman'
    for name in ('process_bounces', 'probe_before_disable'):
        radios = re.findall(rf'<input type="radio" name="{name}" '
                            r'value="([^"]*)"', page)
        assert radios == ['yes', 'no'], name
    assert values['process_bounces'] == 'yes'
    assert values['probe_before_disable'] == 'no'
    assert re.search(r'<input type="text" name="bounce_score_threshold"',
                     page)
    response = owner.post(url, {**values, 'complaint_action': 'unsubscribe',
                                'probe_before_disable': 'yes'})
    assert response.status_code == 302
    commit()
    settings = text_of(owner.get(url))
    assert form_values(settings)['complaint_action'] == 'unsubscribe'
    assert form_values(settings)['probe_before_disable'] == 'yes'
    # Not one of the values: the API's message on the field.
    response = owner.post(url, {**form_values(settings),
                                'complaint_action': 'shout'})
    assert response.status_code == 400
    error = unescape(text_of(response))
    assert "complaint_action: invalid value 'shout'" in error, error[-3000:]
    commit()
    from mailman_bounces.tests.test_rest_api import get
    assert get(f'/lists/{LIST_ID}/settings')['complaint_action'] == \
        'unsubscribe'


def test_threshold_is_the_lists_policy(world):
    """The list's own score_threshold (1.5) wins over core's threshold
    (2): the page says 1.5, in the paragraph, on each member's row and
    on the members' account page."""
    from mailman_bounces.tests.test_rest_api import call
    changed = call('PATCH', f'/lists/{LIST_ID}/settings',
                   data={'score_threshold': '1.5'})
    assert changed.status_code == 204, changed.text
    page = text_of(client_for(OWNER).get(
        f'/postorius/lists/{LIST_ID}/bounces/'))
    assert 'A member is disabled at a score of 1.5 and removed after 3 ' \
        'warnings.' in page
    table = _table(page, 'bounces-members')
    assert [_cell(_row_of(table, email), 'bounces-threshold')
            for email in (ANNE, BART)] == ['1.5', '1.5']
    account_page = text_of(client_for(ANNE).get('/postorius/accounts/bounces/'))
    row = _row_of(_table(account_page, 'bounces-account'), LIST_ID)
    assert '/ 1.5<' in row


# A German catalog for the test (the app ships none): what it says.
GERMAN = {
    'the mailbox does not exist at the destination':
        'das Postfach gibt es am Ziel nicht',
    'the mailbox is full or over quota': 'das Postfach ist voll',
    'Members bouncing now': 'Mitglieder, deren Post zurückkommt',
    'Threshold': 'Schwelle',
}


def test_pages_and_reasons_in_the_visitors_language(world, tmp_path):
    """With a German catalog, a German visitor reads the page's own words
    and the bounce reasons in German: the reasons' descriptions, which
    the pure mailman_bounces.detect only marks, are translated by the web
    app."""
    import shutil
    import subprocess

    from django.test import override_settings
    from django.utils import translation
    if not shutil.which('msgfmt'):
        pytest.skip('needs msgfmt (gettext)')
    catalog = tmp_path / 'de' / 'LC_MESSAGES'
    catalog.mkdir(parents=True)
    source = catalog / 'django.po'
    source.write_text(
        'msgid ""\nmsgstr ""\n'
        '"Content-Type: text/plain; charset=UTF-8\\n"\n\n' + ''.join(
            f'msgid "{english}"\nmsgstr "{german}"\n\n'
            for english, german in GERMAN.items()), encoding='utf-8')
    subprocess.run(['msgfmt', '-o', str(catalog / 'django.mo'),
                    str(source)], check=True)
    try:
        with override_settings(LOCALE_PATHS=[str(tmp_path)]):
            page = text_of(client_for(OWNER).get(
                f'/postorius/lists/{LIST_ID}/bounces/',
                HTTP_ACCEPT_LANGUAGE='de'))
    finally:
        translation.deactivate()
    assert 'Mitglieder, deren Post zurückkommt' in page
    table = _table(page, 'bounces-members')
    assert '<th>Schwelle</th>' in table
    assert 'das Postfach gibt es am Ziel nicht (userunknown)' in \
        _row_of(table, ANNE)
    assert 'das Postfach ist voll (mailboxfull)' in _row_of(table, BART)
    assert 'the mailbox' not in table


def test_reason_descriptions_are_marked_for_translation():
    """Every reason's description is in the strings xgettext extracts
    from mailman_bounces.detect with the marker Django's makemessages
    uses (gettext_noop)."""
    import shutil
    import subprocess

    from mailman_bounces.detect import REASONS, reasons
    if not shutil.which('xgettext'):
        pytest.skip('needs xgettext (gettext)')
    extracted = subprocess.run(
        ['xgettext', '--language=Python', '--keyword=gettext_noop',
         '--output=-', reasons.__file__],
        capture_output=True, text=True, check=True).stdout
    msgids = set(re.findall(r'^msgid "(.*)"$', extracted, re.MULTILINE))
    assert 'the mailbox does not exist at the destination' in msgids
    assert set(REASONS.values()) <= msgids


def test_templates_have_no_text_outside_translation_tags():
    """What a visitor reads in the app's templates is all in
    {% translate %}/{% blocktranslate %} (or a variable): strip those,
    the other tags and the HTML, and no words are left."""
    from pathlib import Path

    from mailman_bounces import web
    templates = Path(web.__file__).parent / 'templates'
    untranslated = {}
    for path in sorted(templates.rglob('*.html')):
        text = path.read_text(encoding='utf-8')
        text = re.sub(r'{%\s*(blocktrans|blocktranslate)\b.*?'
                      r'{%\s*end(blocktrans|blocktranslate)\s*%}', ' ', text,
                      flags=re.DOTALL)
        text = re.sub(r'{%.*?%}|{{.*?}}', ' ', text, flags=re.DOTALL)
        # Attributes people read.
        said = re.findall(r'(?:alt|title|aria-label|placeholder)="([^"]*)"',
                          text)
        text = re.sub(r'<[^>]*>|&[a-z]+;', ' ', text, flags=re.DOTALL)
        words = re.findall(r'[A-Za-z]{2,}', text + ' '.join(said))
        if words:
            untranslated[path.name] = words
    assert untranslated == {}
