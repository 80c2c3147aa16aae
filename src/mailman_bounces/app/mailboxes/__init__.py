"""Bounce mailboxes: polling IMAP and POP3 mailboxes for bounces."""
