/*
 * Fleet provisioning by claim on Mosquitto 2.0: who a claim board is, and answers for that
 * board alone.
 *
 * AWS IoT's fleet-provisioning topics are fixed ($aws/certificates/create/json/accepted, ...):
 * on a plain broker every board holding the same claim certificate would read every other
 * board's private key and ownership token, and a board may pick any client id, so it could
 * take over a device's or a service's session. This plugin closes both:
 *
 * role "claim" (loaded on the claim listener, `require_certificate true`):
 *   - basic auth: the client certificate's CN must be `claim-<id>`; it becomes the username
 *     (the listener's acl_file then decides what that claim may touch). The client id must be
 *     1-128 of [A-Za-z0-9_:-] and start with none of the reserved prefixes (services'), and
 *     cannot contain the '.' of every device's client id. Each accepted connection gets a nonce.
 *     Client ids are one namespace for every claim (every tenant): a board may take a session over
 *     from a board of its own claim only. A client id a live board of another claim holds is
 *     refused (no kicking another tenant's board off mid-enrolment), and so is resuming
 *     (clean session false) a persistent session another claim left (it may hold an answer, a
 *     private key, on its way to that board); a clean session of that id is let in.
 *   - message: a request on $aws/<request> is re-published as
 *     $fleet/claims/<cn>/<nonce>/<client id>/<request> (never retained): the bridge forwards
 *     it with the asker named by the broker, not by the board.
 * role "device" (loaded on the certificate listener, the one AWS devices use, 8883 on `make run`):
 *   - basic auth: a claim certificate is taken as on the claim listener, so the SDK's
 *     fleet-provisioning samples enrol on the device port as on AWS IoT. Any other certificate's
 *     CN becomes the username (the listener's acl_file holds that name's device topics) and the
 *     client id must be the certificate's own name or its thing's (`<tenant>.<device>`; for a
 *     certificate a board made through a claim, `cert-...`, the names file maps it to its thing),
 *     or one the broker assigned (`auto-<uuid>`, random): client ids are one
 *     namespace for every tenant, so no certificate may take another's session over.
 * role "service" (loaded on the service listener):
 *   - message: $fleet/claim-replies/<nonce>/<client id>/<request>/accepted|rejected is delivered
 *     as $aws/<request>/accepted|rejected to that one connection, if it is still the connection
 *     that asked (same client id and nonce); otherwise it is dropped.
 *   - message: $fleet/session-cuts/<name> closes every connection logged in as that name (the
 *     credential sync sends it when a certificate, a claim or a device stops working: boards sharing
 *     a claim have client ids of their own, and a certificate may log in under its thing's client
 *     id or an assigned one, so taking over one client id would not reach them all).
 *
 * <request> is certificates/create/json, certificates/create-from-csr/json or
 * provisioning-templates/<name>/provision/json.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#define MAX_CLIENT_ID 128
#define MAX_CN 128
#define MAX_TEMPLATE 128
#define REQUEST_PREFIX "$fleet/claims/"
#define REPLY_PREFIX "$fleet/claim-replies/"
#define CUT_PREFIX "$fleet/session-cuts/"
#define MAX_NAME 256

struct connection {
	struct connection *next;
	const struct mosquitto *client; /* NULL once gone, for a persistent session kept by the broker */
	char *id;
	char *cn; /* who holds this client id: a claim's CN, or the thing of a certificate on an assigned id */
	unsigned long long nonce;
	bool persistent;
	bool claim; /* a claim board (its requests are stamped), not a certificate on an assigned id */
};

/* Shared by both roles: the library is loaded once, whatever the number of listeners. */
static struct connection *connections = NULL;
static unsigned long long last_nonce = 0;

enum role { ROLE_SERVICE, ROLE_CLAIM, ROLE_DEVICE };

/* A certificate a board made through a claim (`cert-...`) and the thing it belongs to. */
struct name_entry {
	char *cn;
	char *thing;
};

struct instance {
	mosquitto_plugin_id_t *pid;
	enum role role;
	char reserved[512]; /* comma-separated client id prefixes a claim board may not use */
	char assigned[64]; /* the listener's auto_id_prefix: ids the broker assigned */
	char names_file[1024];
	struct name_entry *names;
	size_t name_count;
	time_t names_loaded;
};

static bool id_char(char c, bool allow_colon)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
		|| c == '_' || c == '-' || (allow_colon && c == ':');
}

static bool valid_token(const char *s, size_t max, bool allow_colon)
{
	size_t n = 0;
	if(s == NULL || *s == '\0') return false;
	for(; s[n]; n++){
		if(n >= max || !id_char(s[n], allow_colon)) return false;
	}
	return true;
}

static bool reserved_prefix(const struct instance *self, const char *id)
{
	const char *p = self->reserved;
	while(*p){
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if(len > 0 && strncmp(id, p, len) == 0) return true;
		if(!end) break;
		p = end + 1;
	}
	return false;
}

/* certificates/create/json, certificates/create-from-csr/json, provisioning-templates/<name>/provision/json */
static bool valid_request(const char *r, size_t len)
{
	static const char create[] = "certificates/create/json";
	static const char csr[] = "certificates/create-from-csr/json";
	static const char tp[] = "provisioning-templates/";
	static const char tail[] = "/provision/json";
	if(len == strlen(create) && !strncmp(r, create, len)) return true;
	if(len == strlen(csr) && !strncmp(r, csr, len)) return true;
	if(len > strlen(tp) + strlen(tail) && !strncmp(r, tp, strlen(tp))
			&& !strncmp(r + len - strlen(tail), tail, strlen(tail))){
		size_t name_len = len - strlen(tp) - strlen(tail);
		const char *name = r + strlen(tp);
		if(name_len > MAX_TEMPLATE) return false;
		for(size_t i = 0; i < name_len; i++){
			if(!id_char(name[i], false)) return false;
		}
		return true;
	}
	return false;
}

static char *certificate_cn(const struct mosquitto *client)
{
	X509 *cert = mosquitto_client_certificate(client);
	char *cn = NULL;
	if(cert == NULL) return NULL;
	X509_NAME *name = X509_get_subject_name(cert);
	int idx = name ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
	if(idx >= 0 && X509_NAME_get_index_by_NID(name, NID_commonName, idx) < 0){
		ASN1_STRING *data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
		int len = data ? ASN1_STRING_length(data) : 0;
		/* A NUL inside the name would make it read as a shorter name (another device's): refuse it. */
		if(len > 0 && len <= MAX_CN && memchr(ASN1_STRING_get0_data(data), '\0', (size_t)len) == NULL){
			cn = calloc(1, (size_t)len + 1);
			if(cn) memcpy(cn, ASN1_STRING_get0_data(data), (size_t)len);
		}
	}
	X509_free(cert);
	return cn;
}

static void free_connection(struct connection *c)
{
	free(c->id);
	free(c->cn);
	free(c);
}

static void forget_id(const char *id)
{
	struct connection **p = &connections;
	while(*p){
		if(!strcmp((*p)->id, id)){
			struct connection *gone = *p;
			*p = gone->next;
			free_connection(gone);
		}else{
			p = &(*p)->next;
		}
	}
}

static const struct connection *find_id(const char *id)
{
	for(const struct connection *c = connections; c; c = c->next){
		if(!strcmp(c->id, id)) return c;
	}
	return NULL;
}

static struct connection *find_client(const struct mosquitto *client)
{
	for(struct connection *c = connections; c; c = c->next){
		if(c->client == client) return c;
	}
	return NULL;
}

static int refuse(const char *id, const char *why)
{
	mosquitto_log_printf(MOSQ_LOG_NOTICE, "claim listener: refused client '%s': %s", id ? id : "", why);
	return MOSQ_ERR_AUTH;
}

static void free_names(struct instance *self)
{
	for(size_t i = 0; i < self->name_count; i++){
		free(self->names[i].cn);
		free(self->names[i].thing);
	}
	free(self->names);
	self->names = NULL;
	self->name_count = 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(((const struct name_entry *)a)->cn, ((const struct name_entry *)b)->cn);
}

/* The names file: one `<cert CN> <thing>` line per certificate a board made through a claim. */
static void load_names(struct instance *self)
{
	self->names_loaded = time(NULL);
	if(self->names_file[0] == '\0') return;
	FILE *f = fopen(self->names_file, "r");
	if(f == NULL) return;
	struct name_entry *names = NULL;
	size_t count = 0, cap = 0;
	char line[2 * MAX_NAME + 4];
	bool tail = false; /* inside the rest of a line longer than the buffer: never read it as a line */
	while(fgets(line, sizeof(line), f)){
		char *end = strchr(line, '\n');
		bool skip = tail;
		tail = end == NULL && !feof(f);
		if(skip || tail) continue;
		char *sep = strchr(line, ' ');
		if(sep == NULL || end == NULL || sep == line || end == sep + 1) continue;
		*sep = '\0';
		*end = '\0';
		if(count == cap){
			cap = cap ? cap * 2 : 64;
			struct name_entry *grown = realloc(names, cap * sizeof(*names));
			if(grown == NULL) break;
			names = grown;
		}
		names[count].cn = strdup(line);
		names[count].thing = strdup(sep + 1);
		if(names[count].cn == NULL || names[count].thing == NULL){
			free(names[count].cn);
			free(names[count].thing);
			break;
		}
		count++;
	}
	fclose(f);
	qsort(names, count, sizeof(*names), compare_names);
	free_names(self);
	self->names = names;
	self->name_count = count;
}

static const char *thing_of(struct instance *self, const char *cn)
{
	struct name_entry key = {(char *)cn, NULL};
	for(int attempt = 0; attempt < 2; attempt++){
		const struct name_entry *found = self->name_count
			? bsearch(&key, self->names, self->name_count, sizeof(key), compare_names) : NULL;
		if(found) return found->thing;
		/* A board may log in as its thing before the reload that brings its name: read the file
		 * again, at most once a second whatever a client tries. */
		if(attempt || time(NULL) - self->names_loaded < 1) break;
		load_names(self);
	}
	return NULL;
}

/* A name that may be a username and a topic level: printable, no space, no MQTT wildcard or level. */
static bool valid_name(const char *s)
{
	size_t n = 0;
	if(s == NULL || *s == '\0' || *s == '$') return false;
	for(; s[n]; n++){
		if(n >= MAX_NAME || s[n] <= ' ' || s[n] > '~' || s[n] == '/' || s[n] == '+' || s[n] == '#') return false;
	}
	return true;
}

static bool assigned_id(const struct instance *self, const char *id)
{
	size_t len = strlen(self->assigned);
	return len > 0 && strncmp(id, self->assigned, len) == 0 && valid_token(id, MAX_CLIENT_ID, true);
}

/* Device role, a certificate that is not a claim's: its name logs in, under its own client ids only. */
/* An id the broker assigned is random, but an MQTT 5 client is told its own: a certificate that learnt
 * another's must not take that session, live or kept. The holder is the certificate's name (stable: the
 * names file may bring its thing only after its first connection). */
static bool hold_assigned(struct mosquitto *client, const char *id, const char *owner)
{
	bool clean = mosquitto_client_clean_session(client);
	const struct connection *held = find_id(id);
	if(held && strcmp(held->cn, owner) != 0 && (held->client != NULL || !clean)) return false;
	struct connection *live = find_client(client);
	if(live != NULL && !strcmp(live->id, id)) return true; /* a reload checking a live connection again */
	struct connection *c = calloc(1, sizeof(*c));
	if(c == NULL) return false;
	c->id = strdup(id);
	c->cn = strdup(owner);
	if(c->id == NULL || c->cn == NULL){
		free_connection(c);
		return false;
	}
	forget_id(id);
	c->client = client;
	c->persistent = !clean || mosquitto_client_protocol_version(client) == 5;
	c->next = connections;
	connections = c;
	return true;
}

static int device_auth(struct instance *self, struct mosquitto *client, const char *id, char *cn)
{
	if(!valid_name(cn)){
		free(cn);
		return refuse(id, "the certificate's common name is not a device's");
	}
	const char *thing = strncmp(cn, "cert-", 5) == 0 ? thing_of(self, cn) : cn;
	bool own = id != NULL && (!strcmp(id, cn) || (thing != NULL && !strcmp(id, thing)) || assigned_id(self, id));
	if(!own){
		mosquitto_log_printf(MOSQ_LOG_NOTICE, "certificate listener: refused client '%s' of %s: its client id "
				"must be its thing name (%s) or empty", id ? id : "", cn, thing ? thing : cn);
		free(cn);
		return MOSQ_ERR_AUTH;
	}
	if(assigned_id(self, id) && !hold_assigned(client, id, cn)){
		free(cn);
		return refuse(id, "this assigned client id is another certificate's, or its session is");
	}
	int rc = mosquitto_set_username(client, cn);
	free(cn);
	return rc == MOSQ_ERR_SUCCESS ? MOSQ_ERR_SUCCESS : MOSQ_ERR_AUTH;
}

static int on_basic_auth(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_basic_auth *ed = event_data;
	struct instance *self = userdata;
	const char *id = mosquitto_client_id(ed->client);
	(void)event;

	char *cn = certificate_cn(ed->client);
	bool claim = cn != NULL && strncmp(cn, "claim-", 6) == 0;
	if(self->role == ROLE_DEVICE && cn != NULL && !claim){
		return device_auth(self, ed->client, id, cn);
	}
	if(!claim || !valid_token(cn + 6, MAX_CN, false)){
		free(cn);
		return refuse(id, "the certificate is not a claim certificate");
	}
	if(!valid_token(id, MAX_CLIENT_ID, true)){
		free(cn);
		return refuse(id, "the client id must be 1-128 characters of A-Z a-z 0-9 _ : -");
	}
	if(reserved_prefix(self, id)){ /* assigned ids too: a board names itself, so boards sharing a claim never collide */
		free(cn);
		return refuse(id, "the client id starts with a prefix reserved for the platform's services");
	}
	bool clean = mosquitto_client_clean_session(ed->client);
	const struct connection *held = find_id(id);
	if(held && strcmp(held->cn, cn) != 0 && (held->client != NULL || !clean)){
		free(cn);
		return refuse(id, held->client ? "a board of another claim holds this client id"
				: "the session of this client id is another claim's: connect with a clean session");
	}
	int rc = mosquitto_set_username(ed->client, cn);
	if(rc != MOSQ_ERR_SUCCESS){
		free(cn);
		return MOSQ_ERR_AUTH;
	}
	/* A reload (SIGHUP) checks every live connection again: one known already keeps its nonce, or
	 * the answer to a request it sent before the reload would find no one and be dropped. */
	struct connection *live = find_client(ed->client);
	if(live != NULL && !strcmp(live->id, id)){
		free(cn);
		return MOSQ_ERR_SUCCESS;
	}

	struct connection *c = calloc(1, sizeof(*c));
	if(c == NULL){
		free(cn);
		return MOSQ_ERR_NOMEM;
	}
	c->cn = cn;
	c->id = strdup(id);
	if(c->id == NULL){
		free_connection(c);
		return MOSQ_ERR_NOMEM;
	}
	/* A new connection with this id takes over any older one: only the newest is answered. */
	forget_id(id);
	/* MQTT 5: a clean start may still leave a session behind (a session expiry): remember it too. */
	c->persistent = !clean || mosquitto_client_protocol_version(ed->client) == 5;
	c->claim = true;
	c->client = ed->client;
	c->nonce = ++last_nonce;
	c->next = connections;
	connections = c;
	return MOSQ_ERR_SUCCESS;
}

static int on_disconnect(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_disconnect *ed = event_data;
	(void)event;
	(void)userdata;
	struct connection **p = &connections;
	while(*p){
		if((*p)->client == ed->client){
			struct connection *gone = *p;
			if(gone->persistent){ /* the broker keeps the session: remember whose it is */
				gone->client = NULL;
				return MOSQ_ERR_SUCCESS;
			}
			*p = gone->next;
			free_connection(gone);
			return MOSQ_ERR_SUCCESS;
		}
		p = &(*p)->next;
	}
	return MOSQ_ERR_SUCCESS;
}

static int replace_topic(struct mosquitto_evt_message *ed, const char *topic)
{
	char *copy = mosquitto_strdup(topic);
	if(copy == NULL) return MOSQ_ERR_NOMEM;
	mosquitto_free(ed->topic);
	ed->topic = copy;
	return MOSQ_ERR_SUCCESS;
}

/* Claim listener: stamp who asked onto each request. */
static int on_claim_message(struct mosquitto_evt_message *ed)
{
	const char *topic = ed->topic;
	if(strncmp(topic, "$aws/", 5) != 0) return MOSQ_ERR_SUCCESS;
	const char *request = topic + 5;
	if(!valid_request(request, strlen(request))) return MOSQ_ERR_SUCCESS;
	struct connection *c = find_client(ed->client);
	const char *username = mosquitto_client_username(ed->client);
	if(c == NULL || !c->claim || username == NULL) return MOSQ_ERR_ACL_DENIED;
	size_t size = strlen(REQUEST_PREFIX) + strlen(username) + 24 + strlen(c->id) + strlen(request) + 4;
	char *stamped = malloc(size);
	if(stamped == NULL) return MOSQ_ERR_NOMEM;
	snprintf(stamped, size, "%s%s/%llu/%s/%s", REQUEST_PREFIX, username, c->nonce, c->id, request);
	int rc = replace_topic(ed, stamped);
	free(stamped);
	ed->retain = false;
	return rc;
}

/* Service listener: close every session logged in as a name that stopped working. */
static int cut_sessions(const char *name)
{
	if(!valid_name(name)) return MOSQ_ERR_SUCCESS;
	mosquitto_log_printf(MOSQ_LOG_NOTICE, "closing the sessions of %s", name);
	mosquitto_kick_client_by_username(name, false);
	return MOSQ_ERR_SUCCESS;
}

/* Service listener: deliver an answer to the one connection that asked. */
static int on_service_message(struct mosquitto_evt_message *ed)
{
	if(strncmp(ed->topic, CUT_PREFIX, strlen(CUT_PREFIX)) == 0){
		ed->retain = false;
		return cut_sessions(ed->topic + strlen(CUT_PREFIX));
	}
	if(strncmp(ed->topic, REPLY_PREFIX, strlen(REPLY_PREFIX)) != 0) return MOSQ_ERR_SUCCESS;
	ed->retain = false;
	const char *rest = ed->topic + strlen(REPLY_PREFIX);
	char *end = NULL;
	unsigned long long nonce = strtoull(rest, &end, 10);
	if(end == rest || *end != '/') return MOSQ_ERR_SUCCESS;
	const char *id = end + 1;
	const char *slash = strchr(id, '/');
	if(slash == NULL || slash == id || (size_t)(slash - id) > MAX_CLIENT_ID) return MOSQ_ERR_SUCCESS;
	const char *answer = slash + 1;
	size_t len = strlen(answer);
	size_t request_len;
	if(len > 9 && !strcmp(answer + len - 9, "/accepted")){
		request_len = len - 9;
	}else if(len > 9 && !strcmp(answer + len - 9, "/rejected")){
		request_len = len - 9;
	}else{
		return MOSQ_ERR_SUCCESS;
	}
	if(!valid_request(answer, request_len)) return MOSQ_ERR_SUCCESS;

	for(struct connection *c = connections; c; c = c->next){
		if(c->claim && c->nonce == nonce && strlen(c->id) == (size_t)(slash - id) && !strncmp(c->id, id, (size_t)(slash - id))){
			size_t tsize = 5 + len + 1;
			char *topic = malloc(tsize);
			void *payload = ed->payloadlen ? mosquitto_malloc(ed->payloadlen) : NULL;
			if(topic == NULL || (ed->payloadlen && payload == NULL)){
				free(topic);
				mosquitto_free(payload);
				return MOSQ_ERR_NOMEM;
			}
			snprintf(topic, tsize, "$aws/%s", answer);
			if(ed->payloadlen) memcpy(payload, ed->payload, ed->payloadlen);
			int rc = mosquitto_broker_publish(c->id, topic, (int)ed->payloadlen, payload, 1, false, NULL);
			free(topic);
			if(rc != MOSQ_ERR_SUCCESS) mosquitto_free(payload);
			return MOSQ_ERR_SUCCESS;
		}
	}
	mosquitto_log_printf(MOSQ_LOG_INFO, "claim listener: answer for a connection that is gone, dropped");
	return MOSQ_ERR_SUCCESS;
}

static int on_message(int event, void *event_data, void *userdata)
{
	struct instance *self = userdata;
	(void)event;
	return self->role == ROLE_SERVICE ? on_service_message(event_data) : on_claim_message(event_data);
}

static int on_reload(int event, void *event_data, void *userdata)
{
	(void)event;
	(void)event_data;
	load_names(userdata);
	return MOSQ_ERR_PLUGIN_DEFER;
}

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	for(int i = 0; i < supported_version_count; i++){
		if(supported_versions[i] == 5) return 5;
	}
	return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata, struct mosquitto_opt *opts, int opt_count)
{
	struct instance *self = calloc(1, sizeof(*self));
	if(self == NULL) return MOSQ_ERR_NOMEM;
	self->pid = identifier;
	for(int i = 0; i < opt_count; i++){
		if(!strcmp(opts[i].key, "role")){
			self->role = !strcmp(opts[i].value, "claim") ? ROLE_CLAIM
				: !strcmp(opts[i].value, "device") ? ROLE_DEVICE : ROLE_SERVICE;
		}else if(!strcmp(opts[i].key, "assigned_client_id_prefix")){
			snprintf(self->assigned, sizeof(self->assigned), "%s", opts[i].value);
		}else if(!strcmp(opts[i].key, "names_file")){
			snprintf(self->names_file, sizeof(self->names_file), "%s", opts[i].value);
		}else if(!strcmp(opts[i].key, "reserved_client_id_prefixes")){
			snprintf(self->reserved, sizeof(self->reserved), "%s", opts[i].value);
		}
	}
	*userdata = self;
	load_names(self);
	int rc = mosquitto_callback_register(identifier, MOSQ_EVT_MESSAGE, on_message, NULL, self);
	if(rc == MOSQ_ERR_SUCCESS && self->role == ROLE_DEVICE){
		rc = mosquitto_callback_register(identifier, MOSQ_EVT_RELOAD, on_reload, NULL, self);
	}
	if(rc == MOSQ_ERR_SUCCESS && self->role != ROLE_SERVICE){
		rc = mosquitto_callback_register(identifier, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL, self);
		if(rc == MOSQ_ERR_SUCCESS){
			rc = mosquitto_callback_register(identifier, MOSQ_EVT_DISCONNECT, on_disconnect, NULL, self);
		}
	}
	return rc;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *opts, int opt_count)
{
	struct instance *self = userdata;
	(void)opts;
	(void)opt_count;
	mosquitto_callback_unregister(self->pid, MOSQ_EVT_MESSAGE, on_message, NULL);
	if(self->role == ROLE_DEVICE){
		mosquitto_callback_unregister(self->pid, MOSQ_EVT_RELOAD, on_reload, NULL);
	}
	if(self->role != ROLE_SERVICE){
		mosquitto_callback_unregister(self->pid, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
		mosquitto_callback_unregister(self->pid, MOSQ_EVT_DISCONNECT, on_disconnect, NULL);
		free_names(self);
		while(connections){
			struct connection *gone = connections;
			connections = gone->next;
			free_connection(gone);
		}
	}
	free(self);
	return MOSQ_ERR_SUCCESS;
}
