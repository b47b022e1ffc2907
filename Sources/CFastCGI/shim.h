#ifndef PIXELGATE_CFASTCGI_SHIM_H
#define PIXELGATE_CFASTCGI_SHIM_H

/* libfcgi alone: the FastCGI request adapter is its only user. Everything
   else pixelgate asks of the system goes through PixelSystem. */
#include <fcgiapp.h>

#endif
