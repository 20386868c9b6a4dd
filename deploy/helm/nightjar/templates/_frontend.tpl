{{/*
A Deployment and a Service for one of the serving commands (`nightjar codec-server`, `nightjar
triggers`). Arguments: root, component, command, values (the component's values), tokensEnv (the
variable the tokens go to), port (0: no HTTP port).
*/}}
{{- define "nightjar.frontend" -}}
{{- $root := .root -}}
{{- $c := .values -}}
{{- $name := printf "%s-%s" (include "nightjar.fullname" $root) .component -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  {{- include "nightjar.metadata" (dict "root" $root "component" .component "name" $name) | nindent 2 }}
spec:
  replicas: {{ $c.replicas }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "nightjar.selectorLabels" (dict "root" $root "component" .component) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "nightjar.labels" (dict "root" $root "component" .component) | nindent 8 }}
      annotations:
        checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
    spec:
      serviceAccountName: {{ include "nightjar.workerServiceAccount" $root }}
      # Talks to Temporal only, never to the Kubernetes API.
      automountServiceAccountToken: false
      enableServiceLinks: false
      terminationGracePeriodSeconds: 30
      {{- include "nightjar.podCommon" $root | trim | nindent 6 }}
      {{- with $c.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .component }}
          {{- include "nightjar.containerCommon" $root | nindent 10 }}
          args: [{{ .command | quote }}]
          {{- if $c.tokens.existingSecret }}
          env:
            # Tokens are read from the mounted Secret file (one per line), never from the environment.
            - name: {{ printf "%s_FILE" .tokensEnv }}
              value: /var/run/secrets/nightjar/tokens/{{ $c.tokens.key }}
          {{- end }}
          {{- if .port }}
          ports:
            - name: http
              containerPort: {{ .port }}
              protocol: TCP
          livenessProbe:
            tcpSocket:
              port: http
            periodSeconds: 20
          readinessProbe:
            tcpSocket:
              port: http
            periodSeconds: 10
          {{- end }}
          resources:
            {{- toYaml $c.resources | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- if $c.tokens.existingSecret }}
            - name: tokens
              mountPath: /var/run/secrets/nightjar/tokens
              readOnly: true
            {{- end }}
            {{- include "nightjar.secretMounts" $root | nindent 12 }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
        {{- if $c.tokens.existingSecret }}
        - name: tokens
          secret:
            secretName: {{ $c.tokens.existingSecret }}
            defaultMode: 0400
            items:
              - key: {{ $c.tokens.key }}
                path: {{ $c.tokens.key }}
        {{- end }}
        {{- include "nightjar.secretVolumes" $root | nindent 8 }}
{{- if .port }}
---
apiVersion: v1
kind: Service
metadata:
  {{- include "nightjar.metadata" (dict "root" $root "component" .component "name" $name) | nindent 2 }}
spec:
  type: ClusterIP
  selector:
    {{- include "nightjar.selectorLabels" (dict "root" $root "component" .component) | nindent 4 }}
  ports:
    - name: http
      port: {{ .port }}
      targetPort: http
      protocol: TCP
{{- end }}
{{- end -}}
