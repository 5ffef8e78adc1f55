{{/*
Name of the chart, overridable.
*/}}
{{- define "haven-admission.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified name: the release name when it already contains the chart name.
Kept at 52 characters so that suffixed names (-selfsigned, -ca, -tls) stay within 63.
*/}}
{{- define "haven-admission.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "haven-admission.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "haven-admission.labels" -}}
helm.sh/chart: {{ include "haven-admission.chart" . }}
{{ include "haven-admission.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: admission-webhook
app.kubernetes.io/part-of: haven
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "haven-admission.selectorLabels" -}}
app.kubernetes.io/name: {{ include "haven-admission.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "haven-admission.serviceAccountName" -}}
{{- default (include "haven-admission.fullname" .) .Values.serviceAccount.name }}
{{- end }}

{{/*
Image reference: repository:tag, or repository:tag@digest when a digest is set.
*/}}
{{- define "haven-admission.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end }}

{{/*
The Secret holding tls.crt / tls.key (and ca.crt) for the serving certificate.
*/}}
{{- define "haven-admission.tlsSecretName" -}}
{{- if .Values.certManager.enabled -}}
{{- printf "%s-tls" (include "haven-admission.fullname" .) -}}
{{- else -}}
{{- required "certManager.enabled=false needs tls.existingSecret: a kubernetes.io/tls Secret in the release namespace" .Values.tls.existingSecret -}}
{{- end -}}
{{- end }}

{{/*
cert-manager object names.
*/}}
{{- define "haven-admission.servingCertificateName" -}}
{{- printf "%s-serving" (include "haven-admission.fullname" .) -}}
{{- end }}
{{- define "haven-admission.caName" -}}
{{- printf "%s-ca" (include "haven-admission.fullname" .) -}}
{{- end }}
{{- define "haven-admission.selfSignedIssuerName" -}}
{{- printf "%s-selfsigned" (include "haven-admission.fullname" .) -}}
{{- end }}

{{/*
DNS name of the Service, as the API server calls it.
*/}}
{{- define "haven-admission.serviceHost" -}}
{{- printf "%s.%s.svc" (include "haven-admission.fullname" .) .Release.Namespace -}}
{{- end }}

{{/*
Namespaces the webhook never sees (namespaceSelector) and the server exempts (config): always
kube-system and the release namespace, plus config.exemptions.namespaces. JSON list.
*/}}
{{- define "haven-admission.exemptNamespaces" -}}
{{- $ns := concat (list "kube-system" .Release.Namespace) (.Values.config.exemptions.namespaces | default list) -}}
{{- $ns | uniq | toJson -}}
{{- end }}

{{/*
What both webhooks share. Called with (dict "root" $ "exempt" <list of exempt namespaces>).
*/}}
{{- define "haven-admission.webhookCommon" -}}
admissionReviewVersions: ["v1"]
sideEffects: None
matchPolicy: Equivalent
timeoutSeconds: {{ .root.Values.webhook.timeoutSeconds }}
clientConfig:
  service:
    name: {{ include "haven-admission.fullname" .root }}
    namespace: {{ .root.Release.Namespace }}
    path: /validate
    port: {{ .root.Values.service.port }}
  {{- if not .root.Values.certManager.enabled }}
  caBundle: {{ required "certManager.enabled=false needs tls.caBundle: the base64 PEM of the CA that signed tls.existingSecret" .root.Values.tls.caBundle }}
  {{- end }}
# Never the webhook's own namespace (its pods must start while it is down) nor kube-system
# (the control plane must never wait for it); see the chart README.
namespaceSelector:
  matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values:
        {{- toYaml .exempt | nindent 8 }}
    {{- with .extra }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}
