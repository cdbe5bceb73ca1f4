"""The benchmark's bookkeeping: medians over processes, ratios to the stock pipeline, scaling rows."""

import pytest

from mace_tf.envs import rules
from mace_tf.analysis import benchmarking


def test_medians_of_interleaved_processes_and_the_faster_stock_setting_is_the_reference():
  rates = {"mace": iter([100.0, 300.0, 200.0]), "tfa_ppo": iter([50.0, 50.0, 70.0]),
           "tfa_ppo_tf_default_threads": iter([80.0, 90.0, 60.0])}
  order = []

  def worker(name):
    order.append(name)
    rate = next(rates[name])
    return {"samples_per_s": rate, "samples_per_s_runs": [rate], "peak_rss_mib": rate,
            "threads": "1:2"}

  runs = benchmarking.measure_all({k: (k,) for k in rates}, worker, processes=3,
                                  log_fn=lambda _: None)
  assert order[:3] == ["mace", "tfa_ppo", "tfa_ppo_tf_default_threads"]  # rounds interleave
  assert runs["mace"]["samples_per_s"] == 200.0 and runs["mace"]["process_medians"] == [100, 300, 200]
  assert runs["mace"]["peak_rss_mib"] == 300.0
  assert benchmarking.add_ratios(runs) == "tfa_ppo_tf_default_threads"  # median 80 > 50
  assert runs["mace"]["ratio_to_tfa_ppo"] == pytest.approx(2.5)
  assert benchmarking.add_ratios({"mace": {"samples_per_s": 1.0}}) is None


def test_scaling_settings_and_rows():
  game = rules.GameConfig(kind=rules.STAG, num_hunters=4, num_prey=4, hit_points=2, time_limit=9,
                          grid_size=10)
  settings = benchmarking.scaling_settings(game, hunters=[3, 6], grids=[20])
  assert settings["N = 3"].num_prey == 2 and settings["N = 6"].num_prey == 6  # even for stags
  assert settings["G = 20"].grid_size == 20 and settings["G = 20"].num_hunters == 4
  runs = {k: {"samples_per_s": v, "process_medians": [v]}
          for k, v in (("N = 3", 300.0), ("N = 6", 100.0), ("G = 20", 50.0))}
  result = benchmarking.scaling_rows(settings, runs, log_fn=lambda _: None)
  assert [r["num_hunters"] for r in result["rows"]["num_hunters"]] == [3, 6]
  assert result["rows"]["grid_size"][0]["grid_size"] == 20
  assert result["fall_from_first_to_last_n"] == pytest.approx(3.0)


def test_the_cpu_model_and_its_vector_extensions_are_read_from_cpuinfo(tmp_path):
  cpuinfo = tmp_path / "cpuinfo"
  cpuinfo.write_text("processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\n"
                     "flags\t\t: fpu sse avx2 avx512f amx_tile\n")
  assert benchmarking.cpu_model(str(cpuinfo)) == {
      "model": "Intel(R) Xeon(R) Processor", "extensions": ["avx2", "avx512f", "amx_tile"]}
  assert benchmarking.cpu_model(str(tmp_path / "none"))["extensions"] == []


def test_the_benchmarked_learner_is_the_stag_hunters_presets():
  from tests.launch.test_presets import read_flags
  preset = read_flags("launch/stag20.flags")
  config = benchmarking.agent_config("mace", ego_bin=int(preset["ego_bin"]),
                                     learning_fixes=True).flat_dict()
  for name in ("frozen_clock", "normalize_advantages", "continuing_returns",
               "wall_clock_continuation", "shared_head_base", "value_norm"):
    assert config[name] == (preset.get(name, "false") == "true"), name
  assert config["max_grad_norm"] == float(preset["max_grad_norm"])
  paper = benchmarking.agent_config("mace", ego_bin=0, learning_fixes=False).flat_dict()
  assert not any(paper[name] for name in ("frozen_clock", "continuing_returns",
                                          "wall_clock_continuation", "value_norm"))
  assert benchmarking.agent_config("tfa_ppo", ego_bin=5, learning_fixes=True).model == "tfa_ppo"
