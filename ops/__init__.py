"""Server mode (`make serve`): several Rasa and action-server processes under supervisord behind nginx, with
PostgreSQL (conversations, introductions) and Redis (conversation locks)."""
