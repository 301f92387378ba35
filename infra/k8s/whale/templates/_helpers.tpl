{{/* Names and labels shared by every template. */}}
{{- define "whale.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "whale.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "backend") */}}
{{- define "whale.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "whale.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "whale.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "whale.backendImage" -}}
{{ .Values.image.backend.repository }}:{{ .Values.image.backend.tag }}
{{- end -}}

{{- define "whale.gpuImage" -}}
{{ .Values.image.gpuWorker.repository }}:{{ .Values.image.gpuWorker.tag }}
{{- end -}}

{{- define "whale.cnpgName" -}}
{{ include "whale.fullname" . }}-pg
{{- end -}}

{{/* The environment of every backend process (ASGI, Celery worker, beat, migrations). */}}
{{- define "whale.backendEnv" -}}
{{- range $key, $value := .Values.config }}
- name: {{ $key }}
  value: {{ $value | quote }}
{{- end }}
- name: ALLOWED_HOSTS
  value: {{ join "," .Values.hosts | quote }}
- name: CSRF_TRUSTED_ORIGINS
  value: {{ include "whale.origins" . | quote }}
{{- if not (hasKey .Values.config "WHALE_PUBLIC_URL") }}
# Share links point at the first public host unless config sets WHALE_PUBLIC_URL.
- name: WHALE_PUBLIC_URL
  value: {{ printf "https://%s" (first .Values.hosts) | quote }}
{{- end }}
- name: WHALE_VAR_DIR
  value: /app/var
- name: PROMETHEUS_MULTIPROC_DIR
  value: /app/var/prometheus
- name: WHALE_MODELS_JSON
  value: {{ .Values.models.registry | toJson | quote }}
- name: WHALE_REASONING_MODEL
  value: {{ .Values.models.reasoningModel | quote }}
- name: WHALE_CHAT_MODEL
  value: {{ .Values.models.chatModel | quote }}
- name: WHALE_SEARCH_PROVIDER
  value: {{ .Values.search.provider | quote }}
- name: WHALE_SEARXNG_URL
  value: {{ include "whale.searxngUrl" . | quote }}
- name: WHALE_RESEARCH_QUEUE
  value: {{ .Values.search.researchQueue | quote }}
- name: WHALE_FETCH_USER_AGENT
  value: {{ .Values.search.userAgent | quote }}
- name: WHALE_BRAVE_API_KEY
  valueFrom: {secretKeyRef: {name: {{ .Values.secrets.existingSecret }}, key: WHALE_BRAVE_API_KEY, optional: true}}
- name: WHALE_TAVILY_API_KEY
  valueFrom: {secretKeyRef: {name: {{ .Values.secrets.existingSecret }}, key: WHALE_TAVILY_API_KEY, optional: true}}
- name: SECRET_KEY
  valueFrom: {secretKeyRef: {name: {{ .Values.secrets.existingSecret }}, key: SECRET_KEY}}
- name: WHALE_METRICS_TOKEN
  valueFrom: {secretKeyRef: {name: {{ .Values.secrets.existingSecret }}, key: WHALE_METRICS_TOKEN}}
- name: REDIS_URL
  valueFrom: {secretKeyRef: {name: {{ .Values.secrets.existingSecret }}, key: REDIS_URL}}
- name: CELERY_BROKER_URL
  valueFrom: {secretKeyRef: {name: {{ .Values.secrets.existingSecret }}, key: CELERY_BROKER_URL, optional: true}}
- name: EMAIL_HOST_PASSWORD
  valueFrom: {secretKeyRef: {name: {{ .Values.secrets.existingSecret }}, key: EMAIL_HOST_PASSWORD, optional: true}}
{{- if eq .Values.postgres.mode "cloudnativepg" }}
{{- if .Values.postgres.cloudnativepg.pooler.enabled }}
- name: PGUSER_APP
  valueFrom: {secretKeyRef: {name: {{ include "whale.cnpgName" . }}-app, key: username}}
- name: PGPASSWORD_APP
  valueFrom: {secretKeyRef: {name: {{ include "whale.cnpgName" . }}-app, key: password}}
- name: DATABASE_URL
  value: "postgres://$(PGUSER_APP):$(PGPASSWORD_APP)@{{ include "whale.cnpgName" . }}-pooler-rw:5432/app"
{{- else }}
- name: DATABASE_URL
  valueFrom: {secretKeyRef: {name: {{ include "whale.cnpgName" . }}-app, key: uri}}
{{- end }}
{{- else }}
- name: DATABASE_URL
  valueFrom: {secretKeyRef: {name: {{ .Values.secrets.existingSecret }}, key: DATABASE_URL}}
{{- end }}
{{- end -}}

{{- define "whale.origins" -}}
{{- $origins := list -}}
{{- range .Values.hosts }}{{ $origins = append $origins (printf "https://%s" .) }}{{ end -}}
{{ join "," $origins }}
{{- end -}}

{{/* Writable places on a read-only root filesystem (static files stay in the image's /app/var/static). */}}
{{- define "whale.backendVolumeMounts" -}}
- {name: metrics, mountPath: /app/var/prometheus}
- {name: tmp, mountPath: /tmp}
{{- end -}}

{{- define "whale.backendVolumes" -}}
- {name: metrics, emptyDir: {sizeLimit: 64Mi}}
- {name: tmp, emptyDir: {sizeLimit: 256Mi}}
{{- end -}}

{{/* The SearXNG the research step asks: search.searxng.url, else the in-cluster service when enabled. */}}
{{- define "whale.searxngUrl" -}}
{{- if .Values.search.searxng.url -}}
{{ .Values.search.searxng.url }}
{{- else if .Values.search.searxng.enabled -}}
http://{{ include "whale.fullname" . }}-searxng:8080
{{- end -}}
{{- end -}}
