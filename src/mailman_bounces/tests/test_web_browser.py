"""The web app in a real headless browser (Debian's chromium and
chromium-driver, driven by selenium), on the real Postorius site served
over a loopback port, talking to Mailman's real REST server.

Skipped, saying so, without chromium or chromedriver, unless
MAILMAN_BOUNCES_REQUIRE names ``chromium`` (as .ci/run does).  Each page
visited is saved as a screenshot in MAILMAN_BOUNCES_SCREENSHOTS
(var/screenshots by default).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from mailman_bounces.tests import web_site
from mailman_bounces.tests.web_site import (
    ANNE,
    BART,
    HOSTILE,
    LIST_ID,
    PASSWORD,
)

ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = Path(os.environ.get('MAILMAN_BOUNCES_SCREENSHOTS',
                                  ROOT / 'var' / 'screenshots'))

site = web_site.site
world = web_site.world
live_site = web_site.live_site


def _required() -> bool:
    required = os.environ.get('MAILMAN_BOUNCES_REQUIRE', '')
    return 'chromium' in [name.strip() for name in required.split(',')]


def _programs() -> tuple[str, str] | None:
    chromium = shutil.which('chromium') or shutil.which('chromium-browser')
    driver = shutil.which('chromedriver')
    if chromium and driver:
        return chromium, driver
    return None


@pytest.fixture(scope='module')
def browser(_mailman_session):
    # After Mailman's layers and for this module only, so that chromedriver
    # has exited before a layer stops: the REST layer's master waits for
    # *every* child process when it stops (and the LMTP tests of another
    # module stop it).
    programs = _programs()
    if programs is None:
        message = ('needs Debian\'s chromium and chromium-driver '
                   '(apt-get install -y chromium chromium-driver)')
        if _required():
            pytest.fail(message + ', which MAILMAN_BOUNCES_REQUIRE requires')
        pytest.skip(message)
    webdriver = pytest.importorskip('selenium.webdriver',
                                    reason='needs selenium (the [web] extra)')
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = programs[0]
    for argument in ('--headless=new', '--no-sandbox',
                     '--disable-dev-shm-usage', '--disable-gpu',
                     '--window-size=1280,1000', '--lang=en-US'):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(programs[1]), options=options)
    driver.set_page_load_timeout(60)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


class Visit:
    """The browser on the live site, as one visitor."""

    def __init__(self, driver, url: str) -> None:
        self.driver = driver
        self.url = url
        driver.delete_all_cookies()

    def open(self, path: str) -> None:
        self.driver.get(self.url + path)

    def find(self, css: str):
        from selenium.webdriver.common.by import By
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list:
        from selenium.webdriver.common.by import By
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def follow(self, element) -> None:
        """Click `element` (a link or button) and wait for the next page
        (a click does not always wait for the navigation it starts)."""
        page = self.find('html')
        element.click()
        self._wait_for_next_page(page)

    def type_and_submit(self, field, text: str) -> None:
        """Type `text` into a form `field` and submit with Enter."""
        page = self.find('html')
        field.send_keys(text + ENTER)
        self._wait_for_next_page(page)

    def _wait_for_next_page(self, page) -> None:
        """Wait until `page`, the old document's root, is gone.

        While Chromium tears the old document down, asking about its
        elements can fail with a passing 'unknown error' (the inspector
        lost the page's script context) before the element reads as
        stale; that only means the navigation is under way, so the wait
        asks again.  A page that never changes still fails, after 30 s.
        """
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.support import expected_conditions
        from selenium.webdriver.support.ui import WebDriverWait
        WebDriverWait(self.driver, 30,
                      ignored_exceptions=(WebDriverException,)).until(
            expected_conditions.staleness_of(page))

    @property
    def text(self) -> str:
        return self.find('body').text

    def shot(self, name: str) -> Path:
        path = SCREENSHOTS / f'{name}.png'
        self.driver.save_screenshot(str(path))
        assert path.stat().st_size > 1000
        return path

    def log_in(self, username: str) -> None:
        self.open('/accounts/login/')
        self.find('input[name=login]').send_keys(username)
        password = self.find('input[name=password]')
        self.type_and_submit(password, PASSWORD)
        assert 'Sign Out' in self.driver.page_source or (
            'logout' in self.driver.page_source), self.text

    def no_alert(self) -> None:
        """No script of the page ran (an escaped <script> shows as text)."""
        from selenium.common.exceptions import NoAlertPresentException
        with pytest.raises(NoAlertPresentException):
            self.driver.switch_to.alert  # noqa: B018


@pytest.fixture
def visit(browser, live_site, world):
    return Visit(browser, live_site.url)


# The key that submits a form from one of its fields (selenium's Keys.ENTER).
ENTER = '\ue007'


def _setting(name: str):
    from mailman_bounces.tests.test_rest_api import get
    return get(f'/lists/{LIST_ID}/settings')[name]


def test_owner_works_through_the_bounces_pages(visit, world):
    from mailman.interfaces.member import DeliveryStatus

    from mailman_bounces.tests.helpers import commit, member
    visit.log_in('owner')
    # The tab in Postorius' list menu.
    visit.open(f'/postorius/lists/{LIST_ID}/')
    visit.follow(visit.find('#bounces-tab'))
    rows = visit.all('#bounces-members tbody tr')
    assert [row.text.split()[0] for row in rows] == [ANNE, BART]
    assert 'disabled by bounces, warned 1 of 3' in rows[0].text
    assert visit.find('#bounces-plot').get_property('naturalWidth') > 100
    visit.shot('owner-bounces')

    # The events, then only the soft ones.
    visit.follow(visit.find('#bounces-events-tab'))
    assert len(visit.all('tr.bounces-event')) == 3
    from selenium.webdriver.support.ui import Select
    Select(visit.find('#f-severity')).select_by_value('soft')
    visit.follow(visit.find('#bounces-filter-button'))
    events = visit.all('tr.bounces-event')
    assert [row.find_element('css selector', '.bounces-email').text
            for row in events] == [BART]
    visit.shot('owner-events-soft')
    # The world's bounces are verified (registered in process): none
    # forged.
    Select(visit.find('#f-evidence')).select_by_value('forged')
    visit.follow(visit.find('#bounces-filter-button'))
    assert visit.all('tr.bounces-event') == []
    assert visit.find('#bounces-no-events')
    Select(visit.find('#f-evidence')).select_by_value('')
    Select(visit.find('#f-severity')).select_by_value('hard')
    visit.follow(visit.find('#bounces-filter-button'))
    events = visit.all('tr.bounces-event')
    assert len(events) == 2
    # The oldest: the bounce with the hostile diagnostic.
    visit.follow(events[-1].find_element('link text', 'Details'))
    visit.no_alert()
    assert HOSTILE in visit.text
    assert 'Undelivered Mail Returned to Sender' in visit.find(
        '#bounces-headers').text
    assert visit.find('#bounces-message-text').text.strip()
    visit.shot('owner-event')

    # A bad setting: the API's message, nothing changed.
    visit.follow(visit.find('#bounces-settings-tab'))
    threshold = visit.find('#id_bounce_score_threshold')
    warnings = visit.find('#id_bounce_you_are_disabled_warnings')
    threshold.clear()
    threshold.send_keys('lots')
    warnings.clear()
    visit.type_and_submit(warnings, '5')
    assert "bounce_score_threshold: invalid value 'lots'" in visit.text
    visit.shot('owner-settings-refused')
    assert _setting('bounce_score_threshold') == 2
    assert _setting('bounce_you_are_disabled_warnings') == 3
    # A good one, with a choice from a list and a yes.
    Select(visit.find('#id_complaint_action')).select_by_value(
        'unsubscribe')
    from selenium.webdriver.common.keys import Keys
    visit.find('input[name="probe_before_disable"][value="yes"]')\
        .send_keys(Keys.SPACE)
    threshold = visit.find('#id_bounce_score_threshold')
    threshold.clear()
    visit.type_and_submit(threshold, '4')
    assert 'The bounce settings were saved.' in visit.text
    assert _setting('bounce_score_threshold') == 4
    assert _setting('bounce_you_are_disabled_warnings') == 5
    assert _setting('complaint_action') == 'unsubscribe'
    assert _setting('probe_before_disable') is True

    # Re-enable Anne.
    visit.open(f'/postorius/lists/{LIST_ID}/bounces/')
    visit.follow(visit.all('#bounces-members tbody tr')[0].find_element(
        'css selector', 'button'))
    assert f'Delivery to {ANNE} is enabled' in visit.text
    visit.shot('owner-reenabled')
    commit()
    assert member(world.mlist, ANNE).delivery_status == DeliveryStatus.enabled


def test_anonymous_gets_no_list_data(visit):
    for path in ('', 'events/', 'settings/'):
        visit.open(f'/postorius/lists/{LIST_ID}/bounces/{path}')
        assert BART not in visit.driver.page_source
        assert not visit.all('#bounces-members')
    visit.shot('anonymous')


def test_member_reenables_with_the_token_once(visit, world):
    from mailman.interfaces.member import DeliveryStatus

    from mailman_bounces.tests.helpers import commit, member
    path = f'/postorius/bounces/reenable/{world.token}/'
    driver = visit.driver
    # The page open in a second tab too, to post its form after the first.
    first = driver.current_window_handle
    driver.switch_to.new_window('tab')
    visit.open(path)
    second = driver.current_window_handle
    driver.switch_to.window(first)
    visit.open(path)
    assert 'the mailbox does not exist at the destination' in visit.text
    assert ANNE in visit.text
    visit.shot('member-reenable')
    commit()
    assert member(world.mlist, ANNE).delivery_status == \
        DeliveryStatus.by_bounces
    visit.follow(visit.find('#bounces-reenable-button'))
    assert visit.find('#bounces-reenabled').text
    visit.shot('member-reenabled')
    commit()
    assert member(world.mlist, ANNE).delivery_status == DeliveryStatus.enabled
    # The second tab's form: refused.
    driver.switch_to.window(second)
    visit.follow(visit.find('#bounces-reenable-button'))
    assert 'This link is no longer valid' in visit.text
    driver.close()
    driver.switch_to.window(first)
    # And the link itself.
    visit.open(path)
    assert 'This link is no longer valid' in visit.text
    visit.shot('member-reenable-used')


def test_member_and_admin_pages(visit):
    visit.log_in('anne')
    visit.open('/postorius/accounts/subscriptions/')
    visit.follow(visit.find('#bounces-tab'))
    assert 'disabled by bounces' in visit.find('#bounces-account').text
    visit.shot('member-account')
    visit.driver.delete_all_cookies()
    visit.log_in('admin')
    # From Postorius' navigation for site admins.
    visit.open('/postorius/lists/')
    visit.follow(visit.find('#bounces-site-link'))
    assert visit.driver.current_url.endswith('/postorius/bounces/')
    assert LIST_ID.replace('.example.com', '@example.com') in visit.find(
        '#bounces-lists').text
    assert 'last 30 days' in visit.find('#bounces-evidence').text
    assert visit.find('#bounces-outbox').text == (
        'Outbox: 0 callbacks pending, 0 dead.')
    assert 'example' in visit.find('#bounces-mailboxes').text
    visit.shot('admin-site')
