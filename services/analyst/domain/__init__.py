"""Pure pattern logic of the analysis: no I/O, no environment, no clock."""

from services.analyst.domain.analyser import Analyser
from services.analyst.domain.params import Params
from services.analyst.domain.sighting import Hit

__all__ = ["Analyser", "Hit", "Params"]
