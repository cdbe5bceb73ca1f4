"""The compiled training loop's machinery, behind one seam (`GraphLoop`, built by
`mace_tf.train.builder`), proven equal to the plain model of `mace_tf/networks`
(tests/fast/test_fast_network.py) and the numpy rules of `mace_tf/envs` (tests/fast/test_tf_game.py):

* `tf_game`: the hunter games in TensorFlow ops (a port of `mace_tf/envs/rules.py`), and the one
  private TensorFlow switch mace_tf uses (`_functional_control_flow`);
* `network`: the network's forward pass from the grid's entries (sparse first layer, lookup-table
  views) with the linear layers routed through
* `deferred_gradients`: the weight gradients of the L collection passes as one op per layer;
* `graph_loop`: B games stepped and learned from in one compiled function per iteration.

DESIGN.md says why each exists and what it measured.
"""
