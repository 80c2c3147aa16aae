"""The demo's Postorius site with the plugin's web app, on a loopback port.

    demo_web.py PORT REST_URL DIRECTORY OWNER_EMAIL

Sets up the site of `mailman_bounces.web.site` (its SQLite database in
DIRECTORY), makes an account for the list owner (``owner``, password
``demo-owner``) and a site admin (``admin``, password ``demo-admin``), and
serves the site until terminated.  Started by scripts/demo.py.
"""

from __future__ import annotations

import os
import sys

OWNER_LOGIN = ('owner', 'demo-owner')
ADMIN_LOGIN = ('admin', 'demo-admin')


def _account(username: str, password: str, email: str,
             superuser: bool = False) -> None:
    from allauth.account.models import EmailAddress
    from django.contrib.auth.models import User
    user, _ = User.objects.get_or_create(username=username,
                                         defaults={'email': email})
    user.set_password(password)
    user.is_superuser = user.is_staff = superuser
    user.save()
    EmailAddress.objects.get_or_create(
        user=user, email=email,
        defaults={'verified': True, 'primary': True})


def main(port: int, rest_url: str, directory: str, owner: str) -> None:
    os.makedirs(directory, exist_ok=True)
    os.environ.update({
        'DJANGO_SETTINGS_MODULE': 'mailman_bounces.web.site.settings',
        'MAILMAN_BOUNCES_WEB_DIR': directory,
        'MAILMAN_REST_API_URL': rest_url,
    })
    import django
    from django.core.management import call_command
    from django.core.servers.basehttp import run
    from django.core.wsgi import get_wsgi_application
    django.setup()
    call_command('migrate', verbosity=0, interactive=False)
    _account(*OWNER_LOGIN, owner)
    _account(*ADMIN_LOGIN, 'admin@example.com', superuser=True)
    run('127.0.0.1', port, get_wsgi_application(), threading=True)


if __name__ == '__main__':
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    main(int(sys.argv[1]), *sys.argv[2:])
