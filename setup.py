"""mace_tf: Multi-Agent Coordinated Exploration (MACE) on TensorFlow / TF-Agents.

The pinned stack of the design card: these versions pin each other (tf-agents 0.19 needs
tensorflow-probability 0.23, which needs TensorFlow 2.15 and Keras 2).
"""
import setuptools

INSTALL_REQUIRES = [
    "tensorflow==2.15.1",
    "tensorflow-probability==0.23.0",
    "tf-agents[reverb]==0.19.0",
    "numpy>=1.24,<2",
    "absl-py>=1.4",
    # Rendering: GIFs of episodes (launch.render) and plots for reports.
    "pillow>=9.0",
    "matplotlib>=3.7,<3.10",
    # Progress bars on long-running commands.
    "tqdm>=4.64",
]

EXTRAS_REQUIRE = {
    "test": [
        "pytest>=7.4",
        "hypothesis>=6.80",
    ],
    # Sweeps on Ray Tune (issue 14), beside TF 2.15 and numpy < 2: ray[tune], not ray[default] (its
    # dashboard wants pydantic 2 against tf-agents' typing-extensions 4.5); pyarrow < 18 and
    # pandas < 2.3 (newer need NumPy 2); googleapis-common-protos below the protobuf-6 releases.
    # Resolved with pydantic 1.10 and typing-extensions 4.5; a local tune.Tuner ran 4 trials of
    # mace_tf.sweep.trials.run_trial in 32 s (2 cores).
    "sweep": [
        "ray[tune]>=2.40,<2.56",
        "pyarrow<18",
        "pandas<2.3",
        "googleapis-common-protos<1.66",
    ],
    # The multi-agent API of the ecosystem (issue 20): the hunter games as PettingZoo environments,
    # and MACE on PettingZoo / Gymnasium games such as Level-Based Foraging. Unpinned, pip picks
    # gymnasium 1.4, which needs typing-extensions >= 4.6 against tf-agents' pin of 4.5.0; these
    # resolve beside it (../shared/stack-notes.md).
    "pettingzoo": [
        "pettingzoo==1.27.*",
        "gymnasium==1.3.*",
        "lbforaging==2.0.*",
        "typing-extensions==4.5.0",
    ],
}

setuptools.setup(
    name="mace_tf",
    version="0.1.0",
    description="MACE: hierarchical variational multi-agent policies on TF-Agents",
    python_requires=">=3.11,<3.12",
    packages=setuptools.find_packages(include=["mace_tf", "mace_tf.*", "launch"]),
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS_REQUIRE,
)
