"""The random search's space and trials: Table 2's ranges, reproducible draws, clear errors."""

import numpy as np
import pytest

from mace_tf.sweep import search_space as ss


def test_draws_stay_in_table2s_ranges_and_log_uniform_covers_the_decades():
  lrs = []
  for i in range(400):
    t = ss.draw_trial(ss.TABLE2, model="mace", index=i, sweep_seed=0)
    p = t.params
    assert 1e-6 <= p["learning_rate"] <= 1e-1 and 0.9 <= p["gamma"] <= 0.99
    assert 0.9 <= p["gae_lambda"] <= 0.99 and 0.1 <= p["vf_coef"] <= 0.5
    assert 0 <= p["ent_coef"] <= 0.01 and p["latent_dim"] in (2, 4, 8, 16)
    lrs.append(p["learning_rate"])
  # Log-uniform over 5 decades: about a fifth of the draws in each decade.
  counts = np.histogram(np.log10(lrs), bins=[-6, -5, -4, -3, -2, -1])[0]
  assert counts.min() > 50 and counts.max() < 110


def test_trials_are_reproducible_and_independent_of_the_others():
  a = ss.trials(ss.TABLE2, models=["mace", "shared"], count=3, sweep_seed=7)
  b = ss.trials(ss.TABLE2, models=["shared", "mace", "cloned"], count=5, sweep_seed=7)
  by_name = {t.name: t for t in b}
  for t in a:
    assert by_name[t.name] == t  # more trials or models do not move the first ones
  assert [t.name for t in a] == ["mace_t000", "shared_t000", "mace_t001", "shared_t001",
                                 "mace_t002", "shared_t002"]
  assert "kl_coef" in a[0].params and "kl_coef" not in a[1].params  # MACE's extra axes only
  assert len({t.seed for t in b}) == len(b)
  assert ss.draw_trial(ss.TABLE2, model="mace", index=0, sweep_seed=8) != a[0]


def test_paired_draws_share_the_common_axes_and_seed_across_models():
  paired = ss.trials(ss.TABLE2, models=["mace", "shared", "cloned"], count=4, sweep_seed=7,
                     paired=True)
  common = [a.name for a in ss.TABLE2 if a.models is None]
  for index in range(4):
    mace, shared, cloned = paired[3 * index:3 * index + 3]
    assert mace.seed == shared.seed == cloned.seed
    assert {k: mace.params[k] for k in common} == shared.params == cloned.params
    assert {"kl_coef", "latent_dim"} <= set(mace.params)  # MACE's own axes, its own stream
  # Different trial indices draw differently; unpaired draws are the sweeps' before (unchanged).
  assert paired[0].params["learning_rate"] != paired[3].params["learning_rate"]
  unpaired = ss.trials(ss.TABLE2, models=["mace", "shared"], count=1, sweep_seed=7)
  assert unpaired[0].params["learning_rate"] != unpaired[1].params["learning_rate"]
  assert unpaired[0] == ss.draw_trial(ss.TABLE2, model="mace", index=0, sweep_seed=7)
  # Still within Table 2's ranges.
  lrs = [ss.draw_trial(ss.TABLE2, model="shared", index=i, sweep_seed=0, paired=True)
         .params["learning_rate"] for i in range(200)]
  assert 1e-6 <= min(lrs) and max(lrs) <= 1e-1


@pytest.mark.parametrize("spec,words", [
    ({"learning_rate": ["log_uniform", 0, 1]}, "learning_rate: a log-uniform range needs low > 0"),
    ({"gamma": ["uniform", 0.99, 0.9]}, "gamma: low 0.99 > high 0.9"),
    ({"gamma": ["normal", 0, 1]}, "gamma: kind must be"),
    ({"gamma": ["uniform", 0.9]}, r"gamma: expected \['uniform', low, high\]"),
    ({"gamma": 0.9}, "gamma: expected"),
    ({"latent_dim": ["choice"]}, "latent_dim: a choice needs values"),
])
def test_a_malformed_space_is_one_line_naming_the_entry(spec, words):
  with pytest.raises(ValueError, match=words):
    ss.parse_space(spec)


def test_a_parsed_space_draws_like_the_builtin():
  space = ss.parse_space({"learning_rate": ["log_uniform", 1e-6, 1e-1],
                          "latent_dim": ["choice", 2, 4]})
  t = ss.draw_trial(space, model="shared", index=0, sweep_seed=0)
  assert set(t.params) == {"learning_rate", "latent_dim"}
