"""``python -m services.ingest``: the HTTP API and the raw Kafka intake in one process."""

from __future__ import annotations

import uvicorn

from services.common.gcpolicy import spare_exit
from services.common.logging import configure_logging
from services.ingest.server import uvicorn_config
from services.ingest.settings import IngestSettings


def main() -> None:
    settings = IngestSettings()
    configure_logging(settings)
    uvicorn.Server(uvicorn_config(settings, service_process=True)).run()
    spare_exit()


if __name__ == "__main__":
    main()
