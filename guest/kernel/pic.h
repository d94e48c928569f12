/* pic.h - the two 8259A interrupt controllers. */
#ifndef GUEST_PIC_H
#define GUEST_PIC_H

#include <stdbool.h>

void pic_init(void);
void pic_unmask(int irq);
bool pic_spurious(int irq);
void pic_eoi(int irq);

#endif
