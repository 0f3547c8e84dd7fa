/* Fuzz target: label selectors in both forms. The string form must print
 * and parse back to the same string; JSON input goes through the
 * structured reader and back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/json.h"
#include "couchestor/selector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = strndup((const char *)data, size);
    if (!text)
        return 0;
    cs_selector_t sel;
    cs_err_t err = {0};
    if (cs_selector_parse(text, &sel, &err) == 0) {
        char *s1 = cs_selector_to_string(&sel);
        cs_selector_t again;
        if (!s1 || cs_selector_parse(s1, &again, &err) != 0)
            abort();
        char *s2 = cs_selector_to_string(&again);
        if (!s2 || strcmp(s1, s2) != 0)
            abort();
        cs_labels_t labels = {0};
        cs_labels_set(&labels, "storage-tier", "hot");
        (void)cs_selector_matches(&sel, &labels);
        cs_labels_free(&labels);
        free(s1);
        free(s2);
        cs_selector_free(&again);
        cs_selector_free(&sel);
    }
    json_t *j = NULL;
    if (cs_json_parse((const char *)data, size, "fuzz", &j, &err) == 0) {
        if (cs_selector_from_json(j, "selector", &sel, &err) == 0) {
            json_t *back = cs_selector_to_json(&sel);
            cs_selector_t again;
            if (!back || cs_selector_from_json(back, "selector", &again, &err) != 0)
                abort();
            cs_selector_free(&again);
            json_decref(back);
            cs_selector_free(&sel);
        }
        cs_labels_t labels;
        if (cs_labels_from_json(j, "labels", &labels, &err) == 0)
            cs_labels_free(&labels);
        json_decref(j);
    }
    free(text);
    return 0;
}
