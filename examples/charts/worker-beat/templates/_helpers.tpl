{{/*
Expand the name of the chart.
*/}}
{{- define "worker-beat.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name, truncated to 63 characters.
*/}}
{{- define "worker-beat.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "worker-beat.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels; call with (dict "ctx" $ "component" "worker").
*/}}
{{- define "worker-beat.labels" -}}
helm.sh/chart: {{ include "worker-beat.chart" .ctx }}
{{ include "worker-beat.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
{{- end }}

{{- define "worker-beat.selectorLabels" -}}
app.kubernetes.io/name: {{ include "worker-beat.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "worker-beat.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "worker-beat.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "worker-beat.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
Environment shared by worker and beat.
*/}}
{{- define "worker-beat.env" -}}
- name: CELERY_BROKER_URL
  {{- if .Values.redis.existingSecret }}
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.existingSecret }}
      key: CELERY_BROKER_URL
  {{- else }}
  value: {{ .Values.redis.url | quote }}
  {{- end }}
- name: CELERY_RESULT_BACKEND
  value: {{ default .Values.redis.url .Values.settings.resultBackend | quote }}
{{- end }}

{{- define "worker-beat.envFrom" -}}
- configMapRef:
    name: {{ include "worker-beat.fullname" . }}
{{- with .Values.existingAppSecret }}
- secretRef:
    name: {{ . }}
{{- end }}
{{- end }}
