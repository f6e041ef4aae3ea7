"""Staff analytics of the Galaxy Assistant: what the conversations say about demand, unmet needs, FAQ gaps,
introductions and answer feedback, as a dashboard (`python -m analytics.web`) and a report (`make report`).

Reads Rasa's tracker store (table `events`) and the introductions store; shows aggregates and masked need
texts only, never names, emails, organisations or messages to partners."""
