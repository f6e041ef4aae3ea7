"""Country, region and SDG mentions in French, Russian and Arabic: the matcher lives in
knowledge/names_i18n.py, where the retriever reads it too; this name stays for the NLU's imports."""
from knowledge.names_i18n import core_is_cased_ok, i18n_entities, normalise

__all__ = ["core_is_cased_ok", "i18n_entities", "normalise"]
