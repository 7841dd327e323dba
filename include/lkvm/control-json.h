/*
 * --json for the control commands (lkvm list, cpu list, sdei list, balloon): the server's text
 * answers turned into one JSON document each, so that the human output and the protocol stay as
 * they are. Strings are escaped by json__string, the writer lkvm events' lines would use for one.
 * Each renderer returns 0, -EINVAL for text it does not recognize, or -ENOSPC.
 */
#ifndef LKVM_CONTROL_JSON_H
#define LKVM_CONTROL_JSON_H

#include "lkvm/util.h"

/* A JSON document being written into a fixed buffer; err sticks at the first overflow. */
struct json_buf {
	char *p;
	size_t size, n;
	int err;
};

void json__init(struct json_buf *j, char *p, size_t size);
void json__raw(struct json_buf *j, const char *fmt, ...) PRINTF_FMT(2, 3);
/* s as a JSON string: quoted, with '"', '\\' and control characters escaped (\u00XX). */
void json__string(struct json_buf *j, const char *s);

/* lkvm list: one VM's CTL_INFO answer "NAME PID CPUS PLUGGED" as an object (no brackets). */
int ctl_json__vm(struct json_buf *j, const char *info);
/* lkvm cpu list: the table as [{"id","mpidr","state","eject","standbys",...}]. */
int ctl_json__cpus(struct json_buf *j, const char *table);
/* lkvm balloon: {"target_pages",...,"ram_bytes","stats":{...}}. */
int ctl_json__balloon(struct json_buf *j, const char *text);
/*
 * lkvm sdei list: {"vcpus":[{"vcpu","state","masked"}],"events":[{"event","name","shared",
 * "critical","registrations":[{"vcpu" (private events),"enabled","running","pending",
 * "unregister_pending","entry","arg","route","route_affinity","running_on"}]}]}: two lists.
 */
int ctl_json__sdei(struct json_buf *j, const char *text);

#endif
