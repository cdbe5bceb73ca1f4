"""The paper's published numbers, in one place (every report reads them from here)."""

# Table 1 of the paper: total terminal reward at 500k and 1M samples, mean of the best 5 runs.
PAPER_TABLE1 = {
    "hare10": {"cloned": (85.0, 178.3), "shared": (65.0, 155.0), "mace": (240.0, 580.0)},
    "hare10_moving": {"cloned": (465.0, 912.5), "shared": (457.5, 923.8),
                      "mace": (662.7, 1381.8)},
    "hare20": {"cloned": (20.0, 70.0), "shared": (65.0, 105.0), "mace": (200.0, 393.3)},
    "hare20_moving": {"cloned": (706.7, 1401.7), "shared": (491.4, 962.9),
                      "mace": (1260.0, 2344.0)},
    "stag10": {"cloned": (1229.2, 2482.9), "shared": (1214.5, 2423.7), "mace": (1515.2, 3047.3)},
    "stag10_moving": {"cloned": (2079.4, 4171.2), "shared": (2005.7, 4144.3),
                      "mace": (2275.7, 4610.7)},
    "stag20": {"cloned": (3224.5, 6219.9), "shared": (3150.7, 6379.8), "mace": (3799.3, 7158.1)},
    "stag20_moving": {"cloned": (5934.5, 11429.2), "shared": (6344.4, 12196.8),
                      "mace": (6880.7, 13358.6)},
}

# Section 4's per-episode terminal reward on Stag-Hunters 10 v 10, fixed prey, at 1M samples.
PAPER_STAG10_PER_EPISODE = {"mace": 6.61, "shared": 6.22, "cloned": 4.64}
