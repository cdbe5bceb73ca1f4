"""What a launcher itself wrote to stderr: TF 2.15 prints its C++ registration notices (cuDNN,
cuFFT, cuBLAS from `external/...`, and absl's note before InitializeLog) at import, before any
setting can silence them."""


def our_lines(stderr: str) -> list:
  """The non-blank lines of `stderr` that are not TF's import-time C++ notices."""
  return [l for l in stderr.splitlines()
          if l.strip() and " external/" not in l and "absl::InitializeLog" not in l]
