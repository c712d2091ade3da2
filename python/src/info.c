/* What regions(), leases() and stats() return: named tuples (struct sequences). */
#include "mmio_py.h"

static PyTypeObject region_type;
static PyTypeObject grant_type;
static PyTypeObject lease_info_type;
static PyTypeObject stats_type;
static PyTypeObject region_stats_type;

static PyStructSequence_Field region_fields[] = {
	{"name", "the region's name"},
	{"type", "its backend: 'mem', 'file', 'devmem', 'pci', 'uio'"},
	{"size", "bytes"},
	{"address", "absolute device address of offset 0"},
	{"faults", "accesses the device answered with a bus error"},
	{"access", "'rw' if a grant of yours allows stores, else 'ro'"},
	{"grants", "your grants on it: a tuple of Grant(offset, length, access)"},
	{NULL, NULL},
};
static PyStructSequence_Desc region_desc = {
	"mmio.Region", "A region mmiod serves, as the caller sees it (Client.regions()).",
	region_fields, 7};

static PyStructSequence_Field grant_fields[] = {
	{"offset", "start of the range you may lease"},
	{"length", "its length"},
	{"access", "'rw' or 'ro'"},
	{NULL, NULL},
};
static PyStructSequence_Desc grant_desc = {"mmio.Grant", "A range of a region you may lease.",
					   grant_fields, 3};

static PyStructSequence_Field lease_info_fields[] = {
	{"id", "mmiod's id of the lease"},
	{"region", "its region"},
	{"start", "its offset in the region"},
	{"length", "bytes"},
	{"pid", "the holder's pid"},
	{"uid", "the holder's uid"},
	{"access", "'rw' or 'ro'"},
	/* An attribute only (not in the tuple), so that code unpacking 7 fields still works. */
	{"ttl_ms", "ms before mmiod revokes it unless renewed (grant's max_lease_ms), or None"},
	{NULL, NULL},
};
static PyStructSequence_Desc lease_info_desc = {
	"mmio.LeaseInfo", "A live lease, as mmiod lists it (Client.leases()).", lease_info_fields,
	7};

static PyTypeObject figures_type;
static PyTypeObject lease_stats_type;

static PyStructSequence_Field figures_fields[] = {
	{"loads", "loads on every path (a modify is a load and a store; a block one per value)"},
	{"stores", "stores, counted as loads are"},
	{"modifies", "modify requests"},
	{"polls", "poll requests"},
	{"block_bytes", "bytes of block reads and writes"},
	{"errors", "failed accesses: a dict of status name ('OUT_OF_RANGE', ...) to count"},
	{"latency", "socket access requests by mmiod's time on them: item i counts those of "
		    "[2**i, 2**(i+1)) ns, the last all longer"},
	{"latency_sum_ns", "mmiod's time on those requests, in all"},
	{NULL, NULL},
};
static PyStructSequence_Desc figures_desc = {
	"mmio.AccessFigures", "What a lease or a region has done since it began (Client.stats()).",
	figures_fields, 8};

static PyStructSequence_Field lease_stats_fields[] = {
	{"id", "the lease's id"},    {"region", "its region"},     {"uid", "its holder's uid"},
	{"pid", "its holder's pid"}, {"figures", "AccessFigures"}, {NULL, NULL},
};
static PyStructSequence_Desc lease_stats_desc = {
	"mmio.LeaseStats", "One live lease's figures in Stats.lease_stats.", lease_stats_fields, 5};

static PyStructSequence_Field stats_fields[] = {
	{"connections", "live client connections"},
	{"leases", "live leases over every region"},
	{"faults", "device faults since mmiod started"},
	{"requests", "requests served since start, this one included"},
	{"uptime_ms", "since mmiod started"},
	{"rings", "open shared-memory rings"},
	{"regions", "a tuple of RegionStats(name, leases, faults) of the regions you see"},
	/* Attributes only, after the tuple's items: a Stats still unpacks into 7. */
	{"lease_stats", "a tuple of LeaseStats by id: every live lease for root and the admin "
			"group, your uid's for others"},
	{"lease_stats_more", "True if there are more leases than one reply holds (the first "
			     "listed only)"},
	{NULL, NULL},
};
static PyStructSequence_Desc stats_desc = {"mmio.Stats", "mmiod's figures (Client.stats()).",
					   stats_fields, 7};

static PyStructSequence_Field region_stats_fields[] = {
	{"name", "the region's name"},
	{"leases", "live leases on it, anyone's"},
	{"faults", "device faults since mmiod started"},
	/* An attribute only: a RegionStats still unpacks into 3. */
	{"figures", "AccessFigures of the region, over every lease it had"},
	{NULL, NULL},
};
static PyStructSequence_Desc region_stats_desc = {
	"mmio.RegionStats", "One region's figures in Stats.regions.", region_stats_fields, 3};

const char *
mmiopy_access_name(enum mmio_access access)
{
	return access == MMIO_ACCESS_RW ? "rw" : "ro";
}

int
mmiopy_info_init(PyObject *module)
{
	struct {
		PyTypeObject *type;
		PyStructSequence_Desc *desc;
		const char *name;
	} types[] = {
		{&region_type, &region_desc, "Region"},
		{&grant_type, &grant_desc, "Grant"},
		{&lease_info_type, &lease_info_desc, "LeaseInfo"},
		{&stats_type, &stats_desc, "Stats"},
		{&region_stats_type, &region_stats_desc, "RegionStats"},
		{&figures_type, &figures_desc, "AccessFigures"},
		{&lease_stats_type, &lease_stats_desc, "LeaseStats"},
	};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (PyStructSequence_InitType2(types[i].type, types[i].desc) < 0 ||
		    PyModule_AddObjectRef(module, types[i].name, (PyObject *)types[i].type) < 0) {
			return -1;
		}
	}
	return 0;
}

/* Sets field i of seq to v (a new reference, or NULL on error); -1 on error. */
static int
set(PyObject *seq, Py_ssize_t i, PyObject *v)
{
	if (!v) {
		return -1;
	}
	PyStructSequence_SET_ITEM(seq, i, v);
	return 0;
}

static PyObject *
u64(uint64_t v)
{
	return PyLong_FromUnsignedLongLong(v);
}

static PyObject *
str(const char *s)
{
	return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

static PyObject *
region_to_object(const struct mmio_region_info *r)
{
	PyObject *grants = PyTuple_New((Py_ssize_t)r->n_grants);
	if (!grants) {
		return NULL;
	}
	int rw = 0;
	for (size_t k = 0; k < r->n_grants; k++) {
		const struct mmio_grant *g = &r->grants[k];
		PyObject *grant = PyStructSequence_New(&grant_type);
		PyTuple_SET_ITEM(grants, (Py_ssize_t)k, grant);
		if (!grant || set(grant, 0, u64(g->offset)) < 0 ||
		    set(grant, 1, u64(g->length)) < 0 ||
		    set(grant, 2, str(mmiopy_access_name(g->access))) < 0) {
			Py_DECREF(grants);
			return NULL;
		}
		rw |= g->access == MMIO_ACCESS_RW;
	}
	PyObject *o = PyStructSequence_New(&region_type);
	if (!o) {
		Py_DECREF(grants);
		return NULL;
	}
	if (set(o, 6, grants) < 0 || set(o, 0, str(r->name)) < 0 || set(o, 1, str(r->type)) < 0 ||
	    set(o, 2, u64(r->size)) < 0 || set(o, 3, u64(r->address)) < 0 ||
	    set(o, 4, u64(r->faults)) < 0 || set(o, 5, str(rw ? "rw" : "ro")) < 0) {
		Py_DECREF(o);
		return NULL;
	}
	return o;
}

PyObject *
mmiopy_regions_to_list(const struct mmio_region_info *r, int n)
{
	PyObject *list = PyList_New(n);
	for (int i = 0; list && i < n; i++) {
		PyObject *o = region_to_object(&r[i]);
		if (!o) {
			Py_CLEAR(list);
			break;
		}
		PyList_SET_ITEM(list, i, o);
	}
	return list;
}

PyObject *
mmiopy_leases_to_list(const struct mmio_lease_info *l, const uint64_t *ttl_ms, int n)
{
	PyObject *list = PyList_New(n);
	for (int i = 0; list && i < n; i++) {
		PyObject *o = PyStructSequence_New(&lease_info_type);
		if (!o || set(o, 0, u64(l[i].id)) < 0 || set(o, 1, str(l[i].region)) < 0 ||
		    set(o, 2, u64(l[i].start)) < 0 || set(o, 3, u64(l[i].length)) < 0 ||
		    set(o, 4, PyLong_FromLong((long)l[i].pid)) < 0 ||
		    set(o, 5, PyLong_FromUnsignedLong((unsigned long)l[i].uid)) < 0 ||
		    set(o, 6, str(mmiopy_access_name(l[i].access))) < 0 ||
		    set(o, 7, ttl_ms[i] ? u64(ttl_ms[i]) : Py_NewRef(Py_None)) < 0) {
			Py_XDECREF(o);
			Py_CLEAR(list);
			break;
		}
		PyList_SET_ITEM(list, i, o);
	}
	return list;
}

/* {status name: count} of a figures' errors. */
static PyObject *
errors_to_dict(const struct mmio_access_figures *f)
{
	PyObject *d = PyDict_New();
	/* The library never counts more than the array holds; checked all the same. */
	for (size_t i = 0; d && i < f->n_errors && i < sizeof(f->errors) / sizeof(f->errors[0]);
	     i++) {
		const char *name = mmio_status_name(f->errors[i].status);
		PyObject *count = u64(f->errors[i].count);
		if (!count || PyDict_SetItemString(d, name ? name : "UNKNOWN", count) < 0) {
			Py_CLEAR(d);
		}
		Py_XDECREF(count);
	}
	return d;
}

static PyObject *
figures_to_object(const struct mmio_access_figures *f)
{
	PyObject *latency = PyTuple_New(MMIO_LATENCY_BUCKETS);
	for (Py_ssize_t i = 0; latency && i < MMIO_LATENCY_BUCKETS; i++) {
		PyObject *v = u64(f->latency[i]);
		if (!v) {
			Py_CLEAR(latency);
			break;
		}
		PyTuple_SET_ITEM(latency, i, v);
	}
	if (!latency) {
		return NULL;
	}
	PyObject *o = PyStructSequence_New(&figures_type);
	if (!o) {
		Py_DECREF(latency);
		return NULL;
	}
	if (set(o, 6, latency) < 0 || set(o, 0, u64(f->loads)) < 0 ||
	    set(o, 1, u64(f->stores)) < 0 || set(o, 2, u64(f->modifies)) < 0 ||
	    set(o, 3, u64(f->polls)) < 0 || set(o, 4, u64(f->block_bytes)) < 0 ||
	    set(o, 5, errors_to_dict(f)) < 0 || set(o, 7, u64(f->latency_sum_ns)) < 0) {
		Py_DECREF(o);
		return NULL;
	}
	return o;
}

static PyObject *
lease_stats_to_tuple(const struct mmio_stats *s)
{
	PyObject *leases = PyTuple_New((Py_ssize_t)s->n_leases);
	for (size_t i = 0; leases && i < s->n_leases; i++) {
		const struct mmio_lease_stats *l = &s->lease_stats[i];
		PyObject *o = PyStructSequence_New(&lease_stats_type);
		PyTuple_SET_ITEM(leases, (Py_ssize_t)i, o);
		if (!o || set(o, 0, u64(l->id)) < 0 || set(o, 1, str(l->region)) < 0 ||
		    set(o, 2, PyLong_FromUnsignedLong((unsigned long)l->uid)) < 0 ||
		    set(o, 3, PyLong_FromLong((long)l->pid)) < 0 ||
		    set(o, 4, figures_to_object(&l->figures)) < 0) {
			Py_CLEAR(leases);
		}
	}
	return leases;
}

PyObject *
mmiopy_stats_to_object(const struct mmio_stats *s)
{
	PyObject *regions = PyTuple_New((Py_ssize_t)s->n_regions);
	for (size_t i = 0; regions && i < s->n_regions; i++) {
		PyObject *o = PyStructSequence_New(&region_stats_type);
		PyTuple_SET_ITEM(regions, (Py_ssize_t)i, o);
		if (!o || set(o, 0, str(s->regions[i].name)) < 0 ||
		    set(o, 1, u64(s->regions[i].leases)) < 0 ||
		    set(o, 2, u64(s->regions[i].faults)) < 0 ||
		    set(o, 3, figures_to_object(&s->region_figures[i])) < 0) {
			Py_CLEAR(regions);
		}
	}
	if (!regions) {
		return NULL;
	}
	PyObject *o = PyStructSequence_New(&stats_type);
	if (!o) {
		Py_DECREF(regions);
		return NULL;
	}
	if (set(o, 6, regions) < 0 || set(o, 0, u64(s->connections)) < 0 ||
	    set(o, 1, u64(s->leases)) < 0 || set(o, 2, u64(s->faults)) < 0 ||
	    set(o, 3, u64(s->requests)) < 0 || set(o, 4, u64(s->uptime_ms)) < 0 ||
	    set(o, 5, u64(s->rings)) < 0 || set(o, 7, lease_stats_to_tuple(s)) < 0 ||
	    set(o, 8, PyBool_FromLong(s->lease_stats_more)) < 0) {
		Py_DECREF(o);
		return NULL;
	}
	return o;
}
