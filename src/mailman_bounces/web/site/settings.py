"""Django settings of the test and demo Postorius site.

Taken from the environment: ``MAILMAN_BOUNCES_WEB_DIR`` (where its
database lives), ``MAILMAN_REST_API_URL`` (Mailman's REST server, without
``/3.1``), ``MAILMAN_REST_API_USER``/``MAILMAN_REST_API_PASS``.
"""

import os
from pathlib import Path

BASE = Path(os.environ.get('MAILMAN_BOUNCES_WEB_DIR', '/tmp/mailman-bounces-web'))
SECRET_KEY = os.environ.get('MAILMAN_BOUNCES_WEB_SECRET', 'not-secret-test-site')
DEBUG = False
ALLOWED_HOSTS = ['localhost', '127.0.0.1', 'testserver']
SITE_ID = 1

MAILMAN_REST_API_URL = os.environ.get('MAILMAN_REST_API_URL',
                                      'http://localhost:8001')
MAILMAN_REST_API_USER = os.environ.get('MAILMAN_REST_API_USER', 'restadmin')
MAILMAN_REST_API_PASS = os.environ.get('MAILMAN_REST_API_PASS', 'restpass')
MAILMAN_ARCHIVER_KEY = 'unused'
MAILMAN_ARCHIVER_FROM = ('127.0.0.1', '::1')

INSTALLED_APPS = [
    # mailman_bounces.web: before postorius, whose menus it extends.
    'mailman_bounces.web',
    'postorius',
    'django_mailman3',
    'django.contrib.admin',
    'django.contrib.auth',
    'django.contrib.contenttypes',
    'django.contrib.sessions',
    'django.contrib.sites',
    'django.contrib.messages',
    'django.contrib.staticfiles',
    'django.contrib.humanize',
    'django_gravatar',
    'allauth',
    'allauth.account',
    'allauth.socialaccount',
]

MIDDLEWARE = [
    'django.contrib.sessions.middleware.SessionMiddleware',
    'django.middleware.common.CommonMiddleware',
    'django.middleware.csrf.CsrfViewMiddleware',
    'django.middleware.locale.LocaleMiddleware',
    'django.contrib.auth.middleware.AuthenticationMiddleware',
    'django.contrib.messages.middleware.MessageMiddleware',
    'django.middleware.clickjacking.XFrameOptionsMiddleware',
    'django.middleware.security.SecurityMiddleware',
    'allauth.account.middleware.AccountMiddleware',
    'postorius.middleware.PostoriusMiddleware',
]

ROOT_URLCONF = 'mailman_bounces.web.site.urls'

TEMPLATES = [{
    'BACKEND': 'django.template.backends.django.DjangoTemplates',
    'DIRS': [],
    'OPTIONS': {
        # mailman_bounces.web: its loader in place of APP_DIRS, so that
        # Postorius' navigation has the site admin's Bounces link.
        'loaders': [('django.template.loaders.cached.Loader', [
            'django.template.loaders.filesystem.Loader',
            'mailman_bounces.web.loaders.Loader',
        ])],
        'context_processors': [
            'django.template.context_processors.debug',
            'django.template.context_processors.i18n',
            'django.template.context_processors.media',
            'django.template.context_processors.static',
            'django.template.context_processors.tz',
            'django.template.context_processors.csrf',
            'django.template.context_processors.request',
            'django.contrib.auth.context_processors.auth',
            'django.contrib.messages.context_processors.messages',
            'django_mailman3.context_processors.common',
            'postorius.context_processors.postorius',
        ],
    },
}]

DATABASES = {'default': {
    'ENGINE': 'django.db.backends.sqlite3',
    'NAME': str(BASE / 'postorius.db'),
}}
DEFAULT_AUTO_FIELD = 'django.db.models.AutoField'

AUTHENTICATION_BACKENDS = (
    'django.contrib.auth.backends.ModelBackend',
    'allauth.account.auth_backends.AuthenticationBackend',
)
# mailman_bounces.web: Postorius' login pages (allauth's).
LOGIN_URL = 'account_login'
LOGIN_REDIRECT_URL = 'list_index'
LOGOUT_URL = 'account_logout'
ACCOUNT_EMAIL_VERIFICATION = 'none'
ACCOUNT_DEFAULT_HTTP_PROTOCOL = 'http'

LANGUAGE_CODE = 'en-us'
TIME_ZONE = 'UTC'
USE_I18N = True
USE_TZ = True
STATIC_URL = '/static/'
STATIC_ROOT = str(BASE / 'static')
EMAIL_BACKEND = 'django.core.mail.backends.locmem.EmailBackend'
DEFAULT_FROM_EMAIL = 'postorius@example.com'
POSTORIUS_TEMPLATE_BASE_URL = 'http://localhost/'
LOGGING = {
    'version': 1,
    'disable_existing_loggers': False,
    'handlers': {'console': {'class': 'logging.StreamHandler'}},
    'loggers': {'django.request': {'handlers': ['console'],
                                   'level': 'ERROR'}},
}
