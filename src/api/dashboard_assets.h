/* The dashboard's stylesheet and script, src/api/ui/app.{css,js} built in (cmake/embed.cmake). */
#ifndef OPSDECK_DASHBOARD_ASSETS_H
#define OPSDECK_DASHBOARD_ASSETS_H

extern const char dash_css[];
extern const char dash_js[];

#endif
