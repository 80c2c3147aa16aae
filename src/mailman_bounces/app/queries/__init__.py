"""Read models shared by the REST API and the ``mailman bounces`` command.

Both interfaces list the same things (bounce events, the members' bounce
standing, outage freezes) and show the same statistics, so that lives here,
once, with the shape of what is shown (`mailman_bounces.fields`).
Everything is set-based: a listing is one COUNT and one LIMIT/OFFSET query
whatever the size of the table, statistics are GROUP BY queries, and only
the rows of the page asked for are turned into Python objects.
"""
