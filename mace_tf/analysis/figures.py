"""The reports' figures (PNG): figure 3 (and 7) analogs, per-episode curves, figure 4's
episode-length distributions, the KL ablation (each from the tables of `sweeps.build`), and the
Level-Based Foraging return curves."""

import warnings
from typing import Dict, Sequence

import numpy as np

from mace_tf.analysis import sweeps as report_lib
from mace_tf.train import train_lib


def _plt():
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  return plt


def _panels(plt, count: int, rows_per: int = 1, width: float = 4.0, height: float = 3.2):
  cols = min(4, count)
  rows = -(-count // cols)
  fig, axes = plt.subplots(rows * rows_per, cols, figsize=(width * cols, height * rows * rows_per),
                           squeeze=False)
  return fig, axes, cols


def _save(plt, fig, path: str, axes=None, used: int = 0, title: str = None) -> None:
  """Blanks the panels past the `used` first of `axes` (if given), puts the legend in the first
  and the `title` on top (if given), and writes the figure."""
  if axes is not None:
    cols = axes.shape[1]
    for j in range(used, axes.size):
      axes[j // cols][j % cols].axis("off")
  if title is not None:
    axes[0][0].legend(fontsize=6)
    fig.suptitle(title, fontsize=9)
  fig.tight_layout()
  fig.savefig(path, dpi=70)
  plt.close(fig)


def _band(ax, grid, curves, model, label):
  curves = np.asarray(curves)
  with np.errstate(all="ignore"), warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)  # grid points before every curve starts: NaN
    mean = np.nanmean(curves, axis=0)
    lo, hi = np.nanmin(curves, axis=0), np.nanmax(curves, axis=0)
  color = report_lib.COLORS.get(model)
  ax.plot(grid, mean, color=color, label=label)
  ax.fill_between(grid, lo, hi, color=color, alpha=0.2, linewidth=0)


def learning_curves(path: str, tables: Sequence[Dict], title: str) -> None:
  """Figure 3's analog: cumulative terminal reward against samples, a panel per setting; per model
  the mean of its best 5 trials with the band from their min to their max; references dashed."""
  plt = _plt()
  fig, axes, cols = _panels(plt, len(tables))
  for i, t in enumerate(tables):
    ax = axes[i // cols][i % cols]
    grid = np.linspace(0, t["num_samples"], report_lib.GRID_POINTS)
    by_name = {r.name: r for r in t["trials"]}
    for model in sorted(t["rows"], key=report_lib.MODEL_ORDER.index):
      best = [by_name[n] for n in t["rows"][model]["best"]]
      if best:
        _band(ax, grid, [report_lib.curve(r, "charts/cumulative_terminal_reward", grid,
                                          flat_after_end=True) for r in best],
              model, f"{model} (best {len(best)})")
    for policy, r in t["references"].items():
      xs = [0] + sorted(r["cumulative"])
      ax.plot(xs, [0] + [r["cumulative"][x] for x in xs[1:]], color="gray",
              linestyle="--" if policy == "nearest" else ":", label=f"{policy} (reference)")
    for model, (a, b) in t["paper"].items():
      ax.plot([500_000, 1_000_000], [a, b], "x", color=report_lib.COLORS.get(model),
              label=f"paper {model}")
    ax.set(title=t["label"], xlabel="samples", ylabel="cumulative terminal reward",
           yscale="symlog")
    ax.grid(alpha=0.3)
  _save(plt, fig, path, axes, len(tables), title)


def per_episode_curves(path: str, tables: Sequence[Dict], title: str) -> None:
  """Per-episode terminal reward (upper row) and episode length (lower row) of the best 5."""
  plt = _plt()
  fig, axes, cols = _panels(plt, len(tables), rows_per=2)
  for i, t in enumerate(tables):
    row, col = 2 * (i // cols), i % cols
    grid = np.linspace(0, t["num_samples"], report_lib.GRID_POINTS)
    by_name = {r.name: r for r in t["trials"]}
    for key, ax in (("charts/episode_terminal_reward", axes[row][col]),
                    ("charts/episode_length", axes[row + 1][col])):
      for model in sorted(t["rows"], key=report_lib.MODEL_ORDER.index):
        best = [by_name[n] for n in t["rows"][model]["best"]]
        if best:
          _band(ax, grid, [report_lib.curve(r, key, grid, flat_after_end=False) for r in best],
                model, model)
      short = "episode_reward" if key.endswith("reward") else "episode_length"
      for policy, r in t["references"].items():
        ax.axhline(r[short], color="gray", linestyle="--" if policy == "nearest" else ":",
                   label=f"{policy} (reference)")
      ax.set(title=t["label"], xlabel="samples",
             ylabel="terminal reward per episode" if short == "episode_reward" else "episode length")
      ax.grid(alpha=0.3)
  _save(plt, fig, path, axes, axes.size, title)


def length_distributions(path: str, tables: Sequence[Dict]) -> None:
  """Figure 4's analog: the share of training episodes per length bin (T / 20 wide) of each model's
  best 5, pooled over training; the reference policies' 100 episodes beside them."""
  plt = _plt()
  fig, axes, cols = _panels(plt, len(tables))
  for i, t in enumerate(tables):
    ax = axes[i // cols][i % cols]
    limit = t["game"]["time_limit"]
    by_name = {r.name: r for r in t["trials"]}
    for model in sorted(t["rows"], key=report_lib.MODEL_ORDER.index):
      counts = report_lib.length_distribution([by_name[n] for n in t["rows"][model]["best"]])
      if counts is None or counts.sum() == 0:
        continue
      edges = np.linspace(0, limit, counts.size + 1)
      ax.stairs(counts / counts.sum(), edges, color=report_lib.COLORS.get(model),
                label=f"{model} ({int(counts.sum()):,} episodes)")
    for policy, r in t["references"].items():
      lengths = r.get("episode_length_counts")
      if lengths:  # {length: episodes}, binned as the trainer bins its episodes
        counts = np.asarray(train_lib.episode_length_counts(
            np.repeat(list(lengths), list(lengths.values())), limit))
        edges = np.linspace(0, limit, counts.size + 1)
        ax.stairs(counts / counts.sum(), edges, color="gray",
                  linestyle="--" if policy == "nearest" else ":", label=f"{policy} (reference)")
    ax.set(title=f"{t['label']} ({t['configuration']})", xlabel="episode length",
           ylabel="share of training episodes", yscale="log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6)
  _save(plt, fig, path, axes, len(tables))


def kl_ablation(path: str, ablation: Dict, name: str) -> None:
  """Sigma (mean and min), KL(Q || N(0, I)) and per-episode reward against samples, every seed."""
  plt = _plt()
  fig, axes = plt.subplots(1, 4, figsize=(16, 3.4))
  panels = (("latent/sigma_mean", "sigma mean"), ("latent/sigma_min", "sigma min"),
            ("losses/kl", "KL(Q || N(0, I))"), ("charts/episode_terminal_reward",
                                                "terminal reward per episode"))
  for variant in sorted(ablation):
    for j, seed in enumerate(ablation[variant]["seeds"]):
      lines = ablation[variant]["lines"][seed]
      for ax, (key, _) in zip(axes, panels):
        pts = [(l["samples"], l[key]) for l in lines if l.get(key) is not None]
        if pts:
          xs, ys = zip(*pts)
          ax.plot(xs, ys, color=report_lib.COLORS.get(variant), alpha=0.8,
                  label=variant if j == 0 else None)
  for ax, (key, quantity) in zip(axes, panels):
    ax.set(xlabel="samples", ylabel=quantity, title=quantity)
    if key == "losses/kl":
      ax.set_yscale("symlog", linthresh=1e-4)
    ax.grid(alpha=0.3)
  axes[0].legend()
  fig.suptitle(f"KL ablation, {name}: MACE with the KL term (mace) and without (mace_nokl)")
  _save(plt, fig, path)


def return_curves(path: str, curves: Dict[str, Dict[str, Sequence]], title: str) -> None:
  """A panel per task: per model the mean over seeds of the episode return against samples, the
  band from their min to their max. `curves`: {task: {model: [(samples, returns) per seed]}}."""
  plt = _plt()
  fig, axes, cols = _panels(plt, len(curves))
  for i, (task, models) in enumerate(curves.items()):
    ax = axes[i // cols][i % cols]
    end = min(xs[-1] for runs in models.values() for xs, _ in runs if xs)
    grid = np.linspace(0, end, report_lib.GRID_POINTS)
    for model, runs in models.items():
      _band(ax, grid, [np.interp(grid, xs, ys, left=np.nan) for xs, ys in runs if xs], model,
            f"{model} ({len(runs)} seeds)")
    ax.set(title=task, xlabel="samples", ylabel="episode return")
    ax.grid(alpha=0.3)
  _save(plt, fig, path, axes, len(curves), title)
