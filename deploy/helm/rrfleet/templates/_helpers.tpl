{{/* Names, labels and the pieces every workload shares. */}}

{{- define "rrfleet.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-rrfleet, or just <release> when it already holds the chart's name. */}}
{{- define "rrfleet.fullname" -}}
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

{{/* The name of one component's objects: <fullname>-<component>, 63 characters at most. */}}
{{- define "rrfleet.componentName" -}}
{{- printf "%s-%s" (include "rrfleet.fullname" .root | trunc (int (sub 62 (len .component))) | trimSuffix "-") .component -}}
{{- end -}}

{{- define "rrfleet.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object; call with (dict "root" $ "component" "watcher"). */}}
{{- define "rrfleet.labels" -}}
helm.sh/chart: {{ include "rrfleet.chart" .root }}
{{ include "rrfleet.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: rrfleet
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Immutable selector labels of one component. */}}
{{- define "rrfleet.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rrfleet.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "rrfleet.image" -}}
{{- $image := .Values.image -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $image.repository (default .Chart.AppVersion $image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The ServiceAccount name of a component (controller, watcher, applier). */}}
{{- define "rrfleet.serviceAccountName" -}}
{{- $values := index .root.Values .component -}}
{{- if $values.serviceAccount.create -}}
{{- default (include "rrfleet.componentName" .) $values.serviceAccount.name -}}
{{- else -}}
{{- default "default" $values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "rrfleet.secretsNamespace" -}}
{{- default .Release.Namespace .Values.fleet.secretsNamespace -}}
{{- end -}}

{{/* The rendered policy file (YAML); the same text the controller and the fleet file use. */}}
{{- define "rrfleet.policyYaml" -}}
{{- if .Values.policy -}}
{{ toYaml .Values.policy }}
{{- else -}}
{}
{{- end -}}
{{- end -}}

{{- define "rrfleet.redisSecretName" -}}
{{- if .Values.redis.enabled -}}
{{- default (include "rrfleet.componentName" (dict "root" . "component" "redis")) .Values.redis.auth.existingSecret -}}
{{- else -}}
{{- .Values.externalRedis.existingSecret -}}
{{- end -}}
{{- end -}}

{{/* The service name OTLP traces are exported as, per component. */}}
{{- define "rrfleet.otlpEndpoint" -}}
{{- if .Values.tracing.otlpEndpoint -}}
{{- .Values.tracing.otlpEndpoint -}}
{{- else if .Values.tracing.jaeger.enabled -}}
{{- printf "http://%s:4318" (include "rrfleet.componentName" (dict "root" . "component" "jaeger")) -}}
{{- end -}}
{{- end -}}

{{/*
Pod-level settings every rrfleet workload shares: security context, pull secrets, scheduling.
Call with (dict "root" $ "component" "watcher" "values" .Values.watcher).
*/}}
{{- define "rrfleet.podScheduling" -}}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- with .values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if hasKey .values "topologySpreadConstraints" }}
topologySpreadConstraints:
{{- if .values.topologySpreadConstraints }}
  {{- toYaml .values.topologySpreadConstraints | nindent 2 }}
{{- else }}
{{- $ctx := . }}
{{- range list "topology.kubernetes.io/zone" "kubernetes.io/hostname" }}
  - maxSkew: 1
    topologyKey: {{ . }}
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "rrfleet.selectorLabels" $ctx | nindent 8 }}
    matchLabelKeys: [pod-template-hash]
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Environment of the Redis connection (contracts: REDIS_URL, REDIS_USERNAME, …). */}}
{{- define "rrfleet.redisEnv" -}}
{{- if .Values.redis.enabled }}
- name: REDIS_URL
  value: {{ printf "%s://%s:6379" (ternary "rediss" "redis" .Values.redis.tls.enabled) (include "rrfleet.componentName" (dict "root" . "component" "redis")) | quote }}
- name: REDIS_USERNAME
  value: {{ .Values.redis.auth.username | quote }}
- name: REDIS_PASSWORD_FILE
  value: /var/run/secrets/rrfleet/redis/password
{{- if .Values.redis.tls.enabled }}
- name: REDIS_TLS_CA_FILE
  value: /var/run/secrets/rrfleet/redis-tls/ca.crt
- name: REDIS_TLS_CERT_FILE
  value: /var/run/secrets/rrfleet/redis-tls/tls.crt
- name: REDIS_TLS_KEY_FILE
  value: /var/run/secrets/rrfleet/redis-tls/tls.key
{{- end }}
{{- else }}
- name: REDIS_URL
  value: {{ .Values.externalRedis.url | quote }}
{{- with .Values.externalRedis.username }}
- name: REDIS_USERNAME
  value: {{ . | quote }}
{{- end }}
{{- if .Values.externalRedis.existingSecret }}
- name: REDIS_PASSWORD_FILE
  value: /var/run/secrets/rrfleet/redis/password
{{- end }}
{{- with .Values.externalRedis.tls }}
{{- if .existingSecret }}
{{- if .caKey }}
- name: REDIS_TLS_CA_FILE
  value: /var/run/secrets/rrfleet/redis-tls/ca.crt
{{- end }}
{{- if .clientCertificate }}
- name: REDIS_TLS_CERT_FILE
  value: /var/run/secrets/rrfleet/redis-tls/tls.crt
- name: REDIS_TLS_KEY_FILE
  value: /var/run/secrets/rrfleet/redis-tls/tls.key
{{- end }}
{{- end }}
{{- end }}
{{- end }}
- name: REDIS_PREFIX
  value: {{ .Values.fleet.redisPrefix | quote }}
{{- end -}}

{{/* Volumes of the Redis credentials; mounts are rrfleet.redisVolumeMounts. */}}
{{- define "rrfleet.redisVolumes" -}}
{{- $secret := include "rrfleet.redisSecretName" . }}
{{- if $secret }}
- name: redis-password
  secret:
    secretName: {{ $secret }}
    defaultMode: 0440
    items:
      - key: {{ ternary "password" .Values.externalRedis.passwordKey .Values.redis.enabled }}
        path: password
{{- end }}
{{- if and .Values.redis.enabled .Values.redis.tls.enabled }}
{{/* The services' client certificate: never the server's key. */}}
- name: redis-tls
  secret:
    secretName: {{ include "rrfleet.componentName" (dict "root" . "component" "redis") }}-client-tls
    defaultMode: 0440
    items:
      - { key: ca.crt, path: ca.crt }
      - { key: tls.crt, path: tls.crt }
      - { key: tls.key, path: tls.key }
{{- end }}
{{- if and (not .Values.redis.enabled) .Values.externalRedis.tls.existingSecret }}
{{- with .Values.externalRedis.tls }}
- name: redis-tls
  secret:
    secretName: {{ .existingSecret }}
    defaultMode: 0440
    items:
      {{- if .caKey }}
      - key: {{ .caKey }}
        path: ca.crt
      {{- end }}
      {{- if .clientCertificate }}
      - key: {{ .certKey }}
        path: tls.crt
      - key: {{ .keyKey }}
        path: tls.key
      {{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "rrfleet.redisVolumeMounts" -}}
{{- if include "rrfleet.redisSecretName" . }}
- name: redis-password
  mountPath: /var/run/secrets/rrfleet/redis
  readOnly: true
{{- end }}
{{- if or (and .Values.redis.enabled .Values.redis.tls.enabled) (and (not .Values.redis.enabled) .Values.externalRedis.tls.existingSecret) }}
- name: redis-tls
  mountPath: /var/run/secrets/rrfleet/redis-tls
  readOnly: true
{{- end }}
{{- end -}}

{{/* Settings the schema cannot express; fail with the field named. */}}
{{- define "rrfleet.validate" -}}
{{- if eq .Values.mode "fleet" -}}
{{- if and (not .Values.redis.enabled) (not .Values.externalRedis.url) -}}
{{- fail "externalRedis.url: required when redis.enabled is false (mode fleet)" -}}
{{- end -}}
{{- if and (not .Values.redis.enabled) (regexMatch "^rediss?://[^/]*:[^@/]*@" .Values.externalRedis.url) -}}
{{- fail "externalRedis.url: must not hold a password; put it in the Secret externalRedis.existingSecret names" -}}
{{- end -}}
{{- if and (not .Values.redis.enabled) .Values.externalRedis.tls.existingSecret (not (hasPrefix "rediss://" .Values.externalRedis.url)) -}}
{{- fail "externalRedis.tls.existingSecret: TLS needs a rediss:// externalRedis.url" -}}
{{- end -}}
{{- if not (gt (float64 .Values.applier.leaseSeconds) (float64 .Values.applier.renewDeadlineSeconds)) -}}
{{- fail "applier.leaseSeconds: must be greater than applier.renewDeadlineSeconds" -}}
{{- end -}}
{{- if not (gt (float64 .Values.applier.renewDeadlineSeconds) (mulf 1.2 .Values.applier.retryPeriodSeconds)) -}}
{{- fail "applier.renewDeadlineSeconds: must be greater than 1.2 × applier.retryPeriodSeconds" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The rrfleet components of the installed mode, as a YAML list. */}}
{{- define "rrfleet.components" -}}
{{- if eq .Values.mode "single" -}}
[controller]
{{- else if eq .Values.mode "fleet" -}}
[watcher, applier]
{{- else -}}
[]
{{- end -}}
{{- end -}}

{{/*
The alert rule groups of the installed mode, from files/rrfleet.rules.yaml (a copy of
deploy/monitoring/rrfleet.rules.yaml that a test keeps equal), as a YAML list.
*/}}
{{- define "rrfleet.ruleGroups" -}}
{{- $rules := .Files.Get "files/rrfleet.rules.yaml" | fromYaml -}}
{{- $wanted := ternary (list "rrfleet-clusters" "rrfleet-controller") (list "rrfleet-clusters" "rrfleet-fleet") (eq .Values.mode "single") -}}
{{- $groups := list -}}
{{- range $rules.groups -}}
{{- if has .name $wanted -}}
{{- $groups = append $groups . -}}
{{- end -}}
{{- end -}}
{{- toYaml $groups -}}
{{- end -}}
