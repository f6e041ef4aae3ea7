"""Galaxy knowledge: the catalogue of South-South solutions and partners, its Chroma store,
hybrid retrieval, SDG tagging and the FAQ index. Independent of Rasa; imports nothing heavy."""
