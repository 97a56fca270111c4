"""Pure numeric core: spatial and temporal statistics for the lägesbild and follow-up.

Only numpy, scipy and the standard library are imported here. Arrays and plain
parameters go in; frozen dataclasses come out. The web side converts.
"""
