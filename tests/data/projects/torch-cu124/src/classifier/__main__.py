from classifier import __doc__

print(__doc__)
