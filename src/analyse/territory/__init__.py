"""The territory: the reference (communes, EPCI, départements), matching selection rows to it,
and the inputs located on it (places, IFN).
"""
