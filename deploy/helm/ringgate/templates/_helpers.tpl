{{/* The chart's name, truncated to a DNS label. */}}
{{- define "ringgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's full name: the release name, with the chart's name unless it already has it. */}}
{{- define "ringgate.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "ringgate.component" -}}
{{- if eq .Values.mode "controlPlane" }}control-plane{{ else }}gateway{{ end -}}
{{- end -}}

{{- define "ringgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ringgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: {{ include "ringgate.component" . }}
{{- end -}}

{{- define "ringgate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "ringgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- range $key, $value := .Values.commonLabels }}
{{ $key }}: {{ $value | quote }}
{{- end }}
{{- end -}}

{{- define "ringgate.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "ringgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "ringgate.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "ringgate.headlessName" -}}
{{ include "ringgate.fullname" . | trunc 44 | trimSuffix "-" }}-instance-discovery
{{- end -}}

{{- define "ringgate.documentConfigMap" -}}
{{- default (printf "%s-document" (include "ringgate.fullname" . | trunc 54 | trimSuffix "-")) .Values.gateway.configuration.local.existingConfigMap -}}
{{- end -}}

{{/* The token Secret's name (the token lives under `gateway-key`, as in APIM's chart). */}}
{{- define "ringgate.secretName" -}}
{{- if .Values.secret.createSecret -}}
{{- include "ringgate.fullname" . -}}
{{- else -}}
{{- required "secret.existingSecretName is required when secret.createSecret is false" .Values.secret.existingSecretName -}}
{{- end -}}
{{- end -}}

{{/* Which configuration source the gateway runs on: managed, standalone or demo. */}}
{{- define "ringgate.source" -}}
{{- if and .Values.gateway.configuration.uri .Values.gateway.configuration.local.enabled -}}
{{- fail "gateway.configuration.uri (managed) and gateway.configuration.local.enabled (standalone) exclude each other" -}}
{{- else if .Values.gateway.configuration.uri -}}managed
{{- else if .Values.gateway.configuration.local.enabled -}}standalone
{{- else -}}demo
{{- end -}}
{{- end -}}

{{/* shutdown.drain.timeout in seconds: given, or what the grace period leaves. */}}
{{- define "ringgate.drainSeconds" -}}
{{- $d := .Values.gateway.deployment -}}
{{- $grace := int $d.terminationGracePeriodSeconds -}}
{{- $drain := 0 -}}
{{- if $d.drainTimeoutSeconds -}}
{{- $drain = int $d.drainTimeoutSeconds -}}
{{- else -}}
{{- $drain = sub (sub $grace (int $d.preStopSleepSeconds)) (int $d.drainMarginSeconds) | int -}}
{{- end -}}
{{- if lt $drain 1 -}}
{{- fail (printf "gateway.deployment.terminationGracePeriodSeconds (%d) leaves no time to drain after the preStop sleep (%v s) and the margin (%v s)" $grace $d.preStopSleepSeconds $d.drainMarginSeconds) -}}
{{- end -}}
{{- if gt (add $drain (int $d.preStopSleepSeconds)) $grace -}}
{{- fail (printf "the preStop sleep (%v s) plus gateway.deployment.drainTimeoutSeconds (%d s) exceed terminationGracePeriodSeconds (%d s): the kubelet would kill requests in flight" $d.preStopSleepSeconds $drain $grace) -}}
{{- end -}}
{{- $drain -}}
{{- end -}}

{{- define "ringgate.adminExposed" -}}
{{- if or .Values.admin.expose .Values.metrics.serviceMonitor.enabled }}true{{ end -}}
{{- end -}}

{{- define "ringgate.seccompProfile" -}}
{{- if eq .Values.seccompProfile.type "Localhost" -}}
type: Localhost
localhostProfile: {{ required "seccompProfile.localhostProfile is required with type Localhost" .Values.seccompProfile.localhostProfile | quote }}
{{- else -}}
type: {{ .Values.seccompProfile.type }}
{{- end -}}
{{- end -}}
