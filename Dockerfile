# The API / worker image: the Python package with its pinned dependencies (CPU torch).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    GENAI_DATA_DIR=/data
WORKDIR /app
# Tesseract reads scanned pages (OCR); without it they are refused with a note saying so.
RUN apt-get update && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-eng \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY domain domain
COPY application application
COPY infrastructure infrastructure
COPY interfaces interfaces
COPY migrations migrations
RUN pip install --no-cache-dir --extra-index-url https://download.pytorch.org/whl/cpu . \
    && useradd --create-home genai && mkdir -p /data && chown genai /data
USER genai
VOLUME /data
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["genai-stack", "serve", "--host", "0.0.0.0", "--port", "8000"]
