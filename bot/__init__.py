"""What Rasa learns from (bot/data) and the pieces around it: the NLU gazetteer and the channels."""
