{{/* Names ------------------------------------------------------------------------------------ */}}
{{- define "nightjar.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "nightjar.fullname" -}}
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

{{- define "nightjar.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "nightjar.workerServiceAccount" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (printf "%s-worker" (include "nightjar.fullname" .)) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "nightjar.sparkServiceAccount" -}}
{{- .Values.spark.serviceAccount.name -}}
{{- end -}}

{{- define "nightjar.dataClaim" -}}
{{- default (printf "%s-data" (include "nightjar.fullname" .)) .Values.data.persistence.existingClaim -}}
{{- end -}}

{{/* Labels: the standard ones, the tenant, and commonLabels. `component` is passed in a dict. */}}
{{- define "nightjar.selectorLabels" -}}
app.kubernetes.io/name: {{ include "nightjar.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "nightjar.labels" -}}
{{ include "nightjar.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: nightjar
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ include "nightjar.chart" .root }}
nightjar.io/tenant: {{ .root.Values.tenant | quote }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Object metadata: name, the release namespace, labels. */}}
{{- define "nightjar.metadata" -}}
name: {{ .name }}
namespace: {{ .root.Release.Namespace }}
labels:
  {{- include "nightjar.labels" . | nindent 2 }}
{{- end -}}

{{/* A number as the environment wants it: integers without an exponent (Helm reads numbers as floats). */}}
{{- define "nightjar.num" -}}
{{- if eq (float64 (int64 .)) (float64 .) -}}{{ int64 . }}{{- else -}}{{ . }}{{- end -}}
{{- end -}}

{{/* repository:tag, pinned to the digest when one is given (release pipelines set it). */}}
{{- define "nightjar.image" -}}
{{- printf "%s:%s" .repository .tag -}}{{- with .digest }}@{{ . }}{{ end -}}
{{- end -}}

{{/* Paths inside the pods. */}}
{{- define "nightjar.tlsDir" -}}/etc/nightjar/temporal-tls{{- end -}}
{{- define "nightjar.keysDir" -}}/etc/nightjar/encryption-keys{{- end -}}

{{/* The checks JSON Schema cannot express. */}}
{{- define "nightjar.validate" -}}
{{- if le (int .Values.worker.terminationGracePeriodSeconds) (int .Values.worker.shutdownGraceSeconds) -}}
{{- fail (printf "worker.terminationGracePeriodSeconds (%d) must be greater than worker.shutdownGraceSeconds (%d): Kubernetes kills the pod when it runs out" (int .Values.worker.terminationGracePeriodSeconds) (int .Values.worker.shutdownGraceSeconds)) -}}
{{- end -}}
{{- if and .Values.temporal.tls.enabled (not .Values.temporal.tls.existingSecret) -}}
{{- fail "temporal.tls.existingSecret is required when temporal.tls.enabled is true" -}}
{{- end -}}
{{- if and .Values.codecServer.enabled (not .Values.codecServer.tokens.existingSecret) -}}
{{- fail "codecServer.tokens.existingSecret is required when codecServer.enabled is true: the codec server decrypts payloads and must not run without tokens" -}}
{{- end -}}
{{- if and .Values.triggers.enabled (not .Values.triggers.tokens.existingSecret) (not .Values.triggers.kafka.brokers) -}}
{{- fail "triggers.enabled needs triggers.tokens.existingSecret (HTTP API) or triggers.kafka.brokers (Kafka bridge)" -}}
{{- end -}}
{{- if and .Values.spark.batchScheduler.queue (not .Values.spark.batchScheduler.name) -}}
{{- fail "spark.batchScheduler.queue needs spark.batchScheduler.name (volcano or yunikorn)" -}}
{{- end -}}
{{- end -}}

{{/* Volumes and mounts shared by every Nightjar pod (worker, codec server, triggers). */}}
{{- define "nightjar.secretVolumes" -}}
- name: encryption-keys
  secret:
    secretName: {{ .Values.encryption.existingSecret }}
    defaultMode: 0400
{{- if .Values.temporal.tls.enabled }}
- name: temporal-tls
  secret:
    secretName: {{ .Values.temporal.tls.existingSecret }}
    defaultMode: 0400
{{- end }}
{{- end -}}

{{- define "nightjar.secretMounts" -}}
- name: encryption-keys
  mountPath: {{ include "nightjar.keysDir" . }}
  readOnly: true
{{- if .Values.temporal.tls.enabled }}
- name: temporal-tls
  mountPath: {{ include "nightjar.tlsDir" . }}
  readOnly: true
{{- end }}
{{- end -}}

{{/* The pod-level pieces every Nightjar pod shares. */}}
{{- define "nightjar.podCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end -}}

{{- define "nightjar.containerCommon" -}}
image: {{ include "nightjar.image" .Values.image | quote }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
envFrom:
  - configMapRef:
      name: {{ include "nightjar.fullname" . }}-config
{{- end -}}
