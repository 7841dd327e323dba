#include "lkvm/events.h"

const char *vm_event__name(enum vm_event_type type)
{
	static const char *const names[VM_EV_NR_TYPES] = {
		"cpu_on_request", "cpu_on_granted", "cpu_on_denied", "cpu_start", "cpu_off",
		"suspend", "resume", "plug", "unplug", "system_off", "system_reset",
		"system_suspend", "sdei_dispatch", "sdei_complete", "acpi_notify", "acpi_eject",
	};

	return (unsigned int)type < VM_EV_NR_TYPES ? names[type] : "?";
}

bool vm_event__has_target(enum vm_event_type type)
{
	return type == VM_EV_CPU_ON_REQUEST || type == VM_EV_CPU_ON_GRANTED ||
	       type == VM_EV_CPU_ON_DENIED;
}

const char *vm_event__notify_name(u32 value)
{
	return value == 1 ? "device_check" : value == 3 ? "eject_request" : "?";
}
