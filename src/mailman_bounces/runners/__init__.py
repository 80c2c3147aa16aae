"""The plugin's runners: bounce queue, LMTP and the periodic pass."""
