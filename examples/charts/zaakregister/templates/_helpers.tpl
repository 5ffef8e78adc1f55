{{/*
Expand the name of the chart.
*/}}
{{- define "zaakregister.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name.
We truncate at 63 chars because some Kubernetes name fields are limited to this (by the DNS naming spec).
If release name contains chart name it will be used as a full name.
*/}}
{{- define "zaakregister.fullname" -}}
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

{{/*
Create chart name and version as used by the chart label.
*/}}
{{- define "zaakregister.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels
*/}}
{{- define "zaakregister.labels" -}}
helm.sh/chart: {{ include "zaakregister.chart" . }}
{{ include "zaakregister.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: zaakgericht-werken
{{- end }}

{{/*
Selector labels
*/}}
{{- define "zaakregister.selectorLabels" -}}
app.kubernetes.io/name: {{ include "zaakregister.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Create the name of the service account to use
*/}}
{{- define "zaakregister.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "zaakregister.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Name of the Secret holding SECRET_KEY and DB_PASSWORD.
*/}}
{{- define "zaakregister.secretName" -}}
{{- default (include "zaakregister.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/*
Name of the media PersistentVolumeClaim.
*/}}
{{- define "zaakregister.claimName" -}}
{{- default (printf "%s-media" (include "zaakregister.fullname" .)) .Values.persistence.existingClaim }}
{{- end }}

{{/*
The image reference for the Django container.
*/}}
{{- define "zaakregister.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
