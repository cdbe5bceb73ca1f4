"""Networks of mace_tf: the shared trunk and the MACE / Shared / Cloned actor-critics."""

from mace_tf.networks.mace_network import MaceNetwork, MaceNetworkOutput
from mace_tf.networks.trunk import PerAgentDense, Trunk

__all__ = ["MaceNetwork", "MaceNetworkOutput", "PerAgentDense", "Trunk"]
