"""The build pipeline: records → RDF → reasoning → rules → SHACL → quality → Turtle.

One module per stage, run in order by :mod:`kg.pipeline.build`; with the checks curators run
on the records (:mod:`kg.pipeline.quotes`, :mod:`kg.pipeline.coverage`).
"""
