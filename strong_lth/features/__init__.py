"""Neuron-subnetworks versus random features: both directions of [M] section 3, by experiment.

A random-features model trains the output weights of one fixed random ReLU layer. A
neuron-subnetwork keeps or drops whole neurons of a random two-layer network (both layers random)
and is therefore a random-features model with coefficients ``v_i s_i``: it can do no better than
random features ([M], Malach et al. 2020), and random features cannot approximate a single ReLU
neuron in high dimension with polynomial width ([YS], Yehudai & Shamir 2019). A
weight-subnetwork (the Pensia pipeline, docs/theory.md, sections 3-5) can, with width about
``d log(1/ε)``. docs/theory.md, section 7 states the setting; :func:`compare` measures it.
"""

from ..exceptions import NotFittedError
from ._compare import MODELS, TASKS, FeatureTable, Task, compare, make_task
from ._models import (
    METHODS,
    NeuronSubnetwork,
    RandomFeatures,
    WeightSubnetwork,
    r2_score,
    unexplained_variance,
)
from ._select import CPSAT_MAX_WIDTH

__all__ = [
    "CPSAT_MAX_WIDTH",
    "METHODS",
    "MODELS",
    "TASKS",
    "FeatureTable",
    "NeuronSubnetwork",
    "NotFittedError",
    "RandomFeatures",
    "Task",
    "WeightSubnetwork",
    "compare",
    "make_task",
    "r2_score",
    "unexplained_variance",
]
