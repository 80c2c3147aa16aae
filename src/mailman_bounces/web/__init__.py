"""A Django app for a Postorius site: the list owners' Bounces pages, the
site admin's view, a user's own bounce standing and the members'
re-enable page (the ``[web]`` extra).

It talks to Mailman only through the plugin's REST API (with
mailmanclient, like Postorius), so it imports nothing from Mailman or from
the rest of this distribution but the pure chart drawing
(`mailman_bounces.utilities.plotting`).  See README.rst for the settings
a Postorius site adds.
"""
