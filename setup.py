"""Packaging for mailman-bounces, a bounce processing plugin for GNU Mailman 3."""

from setuptools import find_namespace_packages, setup

setup(
    name='mailman-bounces',
    version='0.1.0',
    description='Bounce detection, scoring and actions for GNU Mailman 3',
    long_description=open('README.rst', encoding='utf-8').read(),
    long_description_content_type='text/x-rst',
    license='GPLv3+',
    python_requires='>=3.11',
    package_dir={'': 'src'},
    # Namespace discovery: the data directories under tests/ are shipped
    # too, without setuptools warning about them.
    packages=find_namespace_packages('src', include=['mailman_bounces*']),
    include_package_data=True,
    package_data={
        'mailman_bounces': [
            'config/*.cfg',
            'templates/*/*.txt',
            'docs/*.rst',
            'database/alembic/*.py',
            'database/alembic/*.mako',
            'database/alembic/versions/*.py',
            'tests/data/**/*',
            'web/templates/**/*',
        ],
    },
    install_requires=[
        'mailman==3.3.10',
        'sqlalchemy>=2.0,<2.1',
        'flufl.bounce>=4.0',
        'lazr.config',
        'zope.component',
        'zope.interface',
        'alembic',
        'atpublic',
        'click',
        'falcon',
        # ESP webhook signatures (SNS, SendGrid), Standard Webhooks.
        'cryptography',
        'standardwebhooks',
        # Linear-time regular expressions for the list owners' rules.
        'google-re2',
    ],
    extras_require={
        # nose2 and flufl.testing run Mailman's own test suite with the
        # plugin enabled (mailman_bounces/tests/core_suite.py).
        'test': ['pytest', 'hypothesis', 'schemathesis', 'requests', 'ruff',
                 'nose2', 'flufl.testing'],
        'postgresql': ['psycopg2-binary'],
        'mysql': ['pymysql'],
        'plot': ['matplotlib'],
        # The Django app for a Postorius site (mailman_bounces.web) and its
        # browser tests.
        'web': ['postorius==1.3.13', 'mailmanclient==3.3.5',
                'django-mailman3==1.3.15', 'matplotlib', 'selenium'],
    },
    entry_points={
        'console_scripts': [
            'mailman-bounces = mailman_bounces.detect.cli:main',
        ],
    },
    classifiers=[
        'Framework :: GNU Mailman',
        'Programming Language :: Python :: 3',
    ],
)
