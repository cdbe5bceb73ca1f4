"""RGB frames of a game and GIFs of episodes."""

from typing import Optional, Sequence

import numpy as np

from mace_tf.envs import rules

BACKGROUND = (236, 236, 230)
GRID_LINE = (222, 222, 214)
STAG = (20, 110, 40)
HARE = (120, 200, 110)
CAPTURED_PREY = (196, 206, 192)
ACTIVE_HUNTER = (215, 40, 40)
FROZEN_HUNTER = (110, 30, 60)
TIME_BAR = (90, 90, 200)
TIME_BAR_PIXELS = 4


def render_frame(config: rules.GameConfig, state: rules.GameState, game: int = 0, *,
                 cell_pixels: Optional[int] = None) -> np.ndarray:
  """Draws game `game` of `state`: uint8 `[H, W, 3]`.

  Prey fill their cell (dark green: stag, light green: hare, pale: captured); hunters are an inset
  square on top (red: active, dark purple: frozen). A bar on top shows the fraction of time used.
  """
  g = config.grid_size
  c = cell_pixels or max(2, 400 // g)
  frame = np.empty((TIME_BAR_PIXELS + g * c, g * c, 3), dtype=np.uint8)
  frame[:] = BACKGROUND
  board = frame[TIME_BAR_PIXELS:]
  if c >= 4:
    board[::c, :] = GRID_LINE
    board[:, ::c] = GRID_LINE
  frame[:TIME_BAR_PIXELS, : int(round(g * c * state.t[game] / config.time_limit))] = TIME_BAR

  def fill(pos, color, inset):
    x, y = int(pos[0]), int(pos[1])
    board[y * c + inset:(y + 1) * c - inset, x * c + inset:(x + 1) * c - inset] = color

  is_stag = config.prey_is_stag
  for j, pos in enumerate(state.prey_pos[game]):
    alive = state.prey_hp[game, j] > 0
    fill(pos, (STAG if is_stag[j] else HARE) if alive else CAPTURED_PREY, 0)
  hunter_inset = c // 4 if c >= 4 else 0
  for i, pos in enumerate(state.hunter_pos[game]):
    fill(pos, ACTIVE_HUNTER if state.hunter_active[game, i] else FROZEN_HUNTER, hunter_inset)
  return frame


def write_gif(path: str, frames: Sequence[np.ndarray], *, frame_ms: int = 80) -> None:
  """Writes RGB frames `[H, W, 3]` as a looping GIF."""
  from PIL import Image  # Imported here: only the renderer needs Pillow.

  if not frames:
    raise ValueError("write_gif needs at least one frame")
  images = [Image.fromarray(f) for f in frames]
  images[0].save(path, save_all=True, append_images=images[1:], duration=frame_ms, loop=0,
                 optimize=False)
