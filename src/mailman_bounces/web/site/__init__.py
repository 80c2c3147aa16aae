"""A small Postorius site with the app: for the tests and the demo, and an
example of the settings a site adds (marked "mailman_bounces.web")."""
