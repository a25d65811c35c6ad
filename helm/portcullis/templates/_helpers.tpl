{{/*
Named templates. A parent chart that runs Portcullis as a sidecar (mode: sidecar, this chart
as a dependency) uses three of them in its pod template:
  portcullis.sidecar         the gateway container (a list item for spec.containers)
  portcullis.volumes         the volumes it mounts (list items for spec.volumes)
  portcullis.podAnnotations  checksums of the rendered config: a change rolls the pods out
Each takes a dict with this chart's values under "Values" (.Values.portcullis in the parent)
and the parent's .Release under "Release", e.g.
  include "portcullis.sidecar" (dict "Values" .Values.portcullis "Release" .Release) | nindent 8
Nothing here reads .Chart or .Capabilities, so that dict is all they need.
*/}}

{{/* Object names: <release>-portcullis, or the release name when it already says portcullis. */}}
{{- define "portcullis.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains "portcullis" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-portcullis" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "portcullis.selectorLabels" -}}
app.kubernetes.io/name: portcullis
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end -}}

{{- define "portcullis.labels" -}}
{{ include "portcullis.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
{{- end -}}

{{/* The ConfigMap holding the policy files: the chart's, or policies.existingConfigMap. */}}
{{- define "portcullis.policiesConfigMap" -}}
{{- if .Values.policies.existingConfigMap -}}
{{- .Values.policies.existingConfigMap -}}
{{- else -}}
{{- printf "%s-policies" (include "portcullis.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* The Secret mounted at /var/run/secrets/portcullis, or "" when there is none. */}}
{{- define "portcullis.secretName" -}}
{{- if .Values.secretFiles.existingSecret -}}
{{- .Values.secretFiles.existingSecret -}}
{{- else if .Values.secretFiles.data -}}
{{- printf "%s-secrets" (include "portcullis.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/*
gateway.yaml: listen, admin_listen and policies from the chart's values, then config as is.
The mount paths here are the ones portcullis.sidecar and portcullis.volumes set up.
*/}}
{{- define "portcullis.gatewayConfig" -}}
# Rendered by the portcullis Helm chart. Reference: the README's "gateway.yaml" section.
{{ if .Values.tls.enabled -}}
listen:
  address: {{ printf "0.0.0.0:%d" (int .Values.ports.http) | quote }}
  tls:
    cert_file: /var/run/secrets/portcullis-tls/tls.crt
    key_file: /var/run/secrets/portcullis-tls/tls.key
{{ else -}}
listen: {{ printf "0.0.0.0:%d" (int .Values.ports.http) | quote }}
{{ end -}}
admin_listen: {{ printf "0.0.0.0:%d" (int .Values.ports.admin) | quote }}
policies:
  - /etc/portcullis/policies/*.yaml
{{ toYaml .Values.config }}
{{- end -}}

{{/* config.drain_timeout in whole seconds, rounded up (one unit only, as the schema says). */}}
{{- define "portcullis.drainSeconds" -}}
{{- $d := .Values.config.drain_timeout | default "20s" | toString -}}
{{- if hasSuffix "ms" $d -}}
{{- div (add (atoi (trimSuffix "ms" $d)) 999) 1000 -}}
{{- else if hasSuffix "s" $d -}}
{{- atoi (trimSuffix "s" $d) -}}
{{- else if hasSuffix "m" $d -}}
{{- mul (atoi (trimSuffix "m" $d)) 60 -}}
{{- else if hasSuffix "h" $d -}}
{{- mul (atoi (trimSuffix "h" $d)) 3600 -}}
{{- else -}}
{{- fail "config.drain_timeout: write it with one unit, e.g. 20s" -}}
{{- end -}}
{{- end -}}

{{/*
Refuses to render when kubelet could kill the gateway in the middle of its drain: the grace
period must cover the preStop sleep and drain_timeout. Also refuses an empty policy set,
which the gateway would refuse at start-up.
*/}}
{{- define "portcullis.checks" -}}
{{- $drain := int (include "portcullis.drainSeconds" .) -}}
{{- $sleep := int .Values.preStopSleepSeconds -}}
{{- $grace := int .Values.terminationGracePeriodSeconds -}}
{{- if le $grace (add $drain $sleep) -}}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed preStopSleepSeconds (%d) + config.drain_timeout (%ds): kubelet would kill the gateway in the middle of its drain" $grace $sleep $drain) -}}
{{- end -}}
{{- if and (not .Values.policies.existingConfigMap) (not .Values.policies.inline) -}}
{{- fail "policies: give at least one file in policies.inline, or policies.existingConfigMap" -}}
{{- end -}}
{{- if and .Values.tls.enabled (not .Values.tls.secretName) -}}
{{- fail "tls.secretName: required when tls.enabled is true" -}}
{{- end -}}
{{- end -}}

{{- define "portcullis.podAnnotations" -}}
checksum/portcullis-config: {{ include "portcullis.gatewayConfig" . | sha256sum }}
{{- if not .Values.policies.existingConfigMap }}
checksum/portcullis-policies: {{ toYaml .Values.policies.inline | sha256sum }}
{{- end }}
{{- end -}}

{{- define "portcullis.sidecar" -}}
{{- include "portcullis.checks" . -}}
- name: portcullis
  image: {{ printf "%s:%s" .Values.image.repository .Values.image.tag | quote }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  args: [run, --config, /etc/portcullis/config/gateway.yaml]
  ports:
    - name: gateway
      containerPort: {{ int .Values.ports.http }}
      protocol: TCP
    - name: gateway-admin
      containerPort: {{ int .Values.ports.admin }}
      protocol: TCP
  livenessProbe:
    httpGet:
      path: /healthz
      port: gateway-admin
    periodSeconds: {{ int .Values.probes.liveness.periodSeconds }}
    timeoutSeconds: {{ int .Values.probes.liveness.timeoutSeconds }}
    failureThreshold: {{ int .Values.probes.liveness.failureThreshold }}
  readinessProbe:
    httpGet:
      path: /readyz
      port: gateway-admin
    periodSeconds: {{ int .Values.probes.readiness.periodSeconds }}
    timeoutSeconds: {{ int .Values.probes.readiness.timeoutSeconds }}
    failureThreshold: {{ int .Values.probes.readiness.failureThreshold }}
  {{- if gt (int .Values.preStopSleepSeconds) 0 }}
  lifecycle:
    preStop:
      exec:
        command: [sleep, {{ int .Values.preStopSleepSeconds | quote }}]
  {{- end }}
  resources:
    {{- toYaml .Values.resources | nindent 4 }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  volumeMounts:
    - name: portcullis-config
      mountPath: /etc/portcullis/config
      readOnly: true
    - name: portcullis-policies
      mountPath: /etc/portcullis/policies
      readOnly: true
    {{- if include "portcullis.secretName" . }}
    - name: portcullis-secrets
      mountPath: /var/run/secrets/portcullis
      readOnly: true
    {{- end }}
    {{- if .Values.tls.enabled }}
    - name: portcullis-tls
      mountPath: /var/run/secrets/portcullis-tls
      readOnly: true
    {{- end }}
{{- end -}}

{{- define "portcullis.volumes" -}}
- name: portcullis-config
  configMap:
    name: {{ include "portcullis.fullname" . }}
- name: portcullis-policies
  configMap:
    name: {{ include "portcullis.policiesConfigMap" . }}
{{- if include "portcullis.secretName" . }}
- name: portcullis-secrets
  secret:
    secretName: {{ include "portcullis.secretName" . }}
    defaultMode: 0440
{{- end }}
{{- if .Values.tls.enabled }}
- name: portcullis-tls
  secret:
    secretName: {{ .Values.tls.secretName }}
    defaultMode: 0440
{{- end }}
{{- end -}}
