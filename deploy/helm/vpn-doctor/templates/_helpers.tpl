{{/*
Names and labels. Labels are one-line flow mappings so every template stays plain YAML
with single-line substitutions (tests/test_deploy_helm.py renders the chart with them).
*/}}
{{- define "vpn-doctor.fullname" -}}
{{- if eq .Release.Name "vpn-doctor" -}}vpn-doctor{{- else -}}{{ .Release.Name }}-vpn-doctor{{- end -}}
{{- end -}}

{{- define "vpn-doctor.chart" -}}
{{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{- define "vpn-doctor.selectorLabels" -}}
{app.kubernetes.io/name: vpn-doctor, app.kubernetes.io/instance: {{ .Release.Name | quote }}}
{{- end -}}

{{- define "vpn-doctor.labels" -}}
{app.kubernetes.io/name: vpn-doctor, app.kubernetes.io/instance: {{ .Release.Name | quote }}, app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}, app.kubernetes.io/managed-by: {{ .Release.Service | quote }}, helm.sh/chart: {{ include "vpn-doctor.chart" . | quote }}}
{{- end -}}

{{/* The Secret the pods read: the operator's own, or the one this chart creates. */}}
{{- define "vpn-doctor.secretName" -}}
{{- if .Values.secret.existingSecret -}}{{ .Values.secret.existingSecret }}{{- else -}}{{ include "vpn-doctor.fullname" . }}{{- end -}}
{{- end -}}
