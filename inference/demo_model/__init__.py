"""The tiny offline demo model (whale-tiny-r1) and the script that builds it."""
