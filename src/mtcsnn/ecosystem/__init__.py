"""Bridges to the tools users already have: NeuroBench and NIR.

* :mod:`mtcsnn.ecosystem.neurobench`: run MTC, LIF and SE-AdLIF networks
  inside NeuroBench's ``Benchmark`` and its Mackey-Glass task (extra
  ``neurobench``).
* :mod:`mtcsnn.ecosystem.nir`: export the LIF network to the Neuromorphic
  Intermediate Representation and read it back (extra ``nir``).

Neither module is imported here, so ``import mtcsnn`` never needs the extras.
"""
