"""Random searches over Table 2's ranges (appendix 8.2): the search space, the trials, and where
each trial's run lives. Scheduling (Ray Tune) sits on top; no flags here."""
