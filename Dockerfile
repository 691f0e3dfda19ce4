# One image for the web processes, the RQ workers and the scheduler (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY core ./core
COPY flows ./flows
COPY channels ./channels
COPY bot ./bot
COPY admin_api ./admin_api
COPY migrations ./migrations
RUN pip install --upgrade pip && pip install -e . --config-settings editable_mode=compat

RUN useradd --create-home --uid 10001 jumbe
USER jumbe
EXPOSE 8000
CMD ["uvicorn", "bot.app:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers", "--loop", "uvloop", "--http", "httptools"]
